"""``podium health``: the circuit breakers — which models and providers are resting, and until
when."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from podium.cli._store import cli_store, console, echo_json, when
from podium.cli.app import app
from podium.store.records import BreakerState


def effective_state(breaker: BreakerState, now: float) -> str:
    """The state as the runner will treat it now: an open breaker past its time is half-open."""
    if breaker.state == "open" and breaker.opened_until is not None and breaker.opened_until <= now:
        return "half_open"
    return breaker.state


def breaker_doc(breaker: BreakerState, now: float) -> dict[str, Any]:
    """JSON-ready form of a breaker with its effective state and recent error rate."""
    recent = list(breaker.recent)
    return {
        "key": breaker.key,
        "state": effective_state(breaker, now),
        "stored_state": breaker.state,
        "failures": breaker.consecutive_failures,
        "open_until": breaker.opened_until,
        "recent": len(recent),
        "recent_error_rate": (recent.count(False) / len(recent)) if recent else None,
    }


@app.command("health")
def health_cmd(
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show every circuit breaker: key, state, consecutive failures, open until."""
    now = time.time()
    with cli_store() as store:
        docs = [breaker_doc(b, now) for b in store.state.breakers()]
    if as_json:
        echo_json({"breakers": docs, "open": sum(d["state"] == "open" for d in docs)})
        return
    out = console()
    if not docs:
        out.print("No circuit breaker has tripped or been recorded yet — everything is closed.")
        return
    table = Table("breaker", "state", "failures", "open until", "recent errors")
    for d in docs:
        colour = {"open": "red", "half_open": "yellow"}.get(d["state"], "green")
        rate = d["recent_error_rate"]
        table.add_row(
            escape(d["key"]),
            f"[{colour}]{d['state']}[/{colour}]",
            str(d["failures"]),
            when(d["open_until"]) if d["state"] == "open" else "",
            "" if rate is None else f"{rate:.0%} of {d['recent']}",
        )
    out.print(table)
