"""``podium show RUN``: a run's steps, models, attempts, costs, reasons and artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podium.cli._store import cli_store, console, echo_json, money, secs, unknown_run, when
from podium.cli.app import app
from podium.report.summary import run_document


@app.command("show")
def show_cmd(
    run_id: str = typer.Argument(..., metavar="RUN", help="A run id (a unique prefix is enough)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show a run: every step with its model, attempts, cost and reasons, and its artifacts."""
    with cli_store() as store:
        try:
            doc = run_document(run_id, store.journal, store.artifacts)
        except KeyError as exc:
            raise unknown_run(run_id, exc) from None
    if as_json:
        echo_json(doc)
        return
    print_run(console(), doc)


def print_run(out: Console, doc: Mapping[str, Any]) -> None:
    """A run document as people read it."""
    run, totals = doc["run"], doc["totals"]
    out.print(
        f"[bold]{escape(run['pipeline'])}[/bold] run {run['run_id']} — [bold]{run['status']}"
        f"[/bold], {money(totals['cost_usd'])}, {secs(totals['wall_s']) or 'no wall time'}, "
        f"started {when(run['created_at'])}"
    )
    if run.get("error"):
        out.print(f"[red]{escape(run['error'])}[/red]")
    if run.get("out_dir"):
        out.print(f"outputs in {escape(run['out_dir'])}")
    table = Table("step", "status", "model", "attempts", "cost", "time", "reason")
    for step in doc["steps"]:
        tries = step["attempts"]
        failed = sum(a["status"] == "failed" for a in tries)
        count = f"{len(tries)}" + (f" ({failed} failed)" if failed else "")
        if step["cache_hit"]:
            count += " cache hit"
        reason = f"{step['error_code']}: {step['error']}" if step["error"] else ""
        table.add_row(
            escape(step["key"]),
            step["status"],
            escape(step["model"] or ""),
            count,
            money(step["cost_usd"]),
            secs(step["duration_s"]),
            escape(reason),
        )
    out.print(table)
    _print_attempts(out, doc["steps"])
    _print_decisions(out, doc["decisions"])
    _print_artifacts(out, doc["artifacts"])


def _print_attempts(out: Console, steps: list[Mapping[str, Any]]) -> None:
    """Every attempt of steps that needed more than one, or failed."""
    lines = []
    for step in steps:
        tries = step["attempts"]
        if len(tries) < 2 and all(a["status"] != "failed" for a in tries):
            continue
        for a in tries:
            why = f" {a['error_code']}: {a['error']}" if a["error_code"] else ""
            hedge = " (hedge)" if a["hedge"] else ""
            lines.append(
                f"  {escape(step['key'])}: {escape(a['model'])}{hedge} {a['status']}"
                f"{escape(why)} after {secs(a['latency_s'] or a['duration_s']) or '?'}, "
                f"{money(a['cost_usd'])}"
            )
    if lines:
        out.print("[bold]attempts[/bold]")
        for line in lines:
            out.print(line)


def _print_decisions(out: Console, decisions: Mapping[str, Any]) -> None:
    if not decisions:
        return
    out.print("[bold]decisions[/bold]")
    for step_id, d in decisions.items():
        cands = d.get("candidates") or []
        excluded = [c for c in cands if c.get("excluded")]
        chain = ", then ".join([d.get("chosen", "?"), *(d.get("fallbacks") or [])])
        out.print(
            f"  {escape(step_id)}: {escape(chain)} — {len(cands) - len(excluded)} eligible, "
            f"{len(excluded)} excluded"
        )
        for c in excluded[:5]:
            ex = c["excluded"]
            out.print(
                f"    {escape(c['model'])}: {escape(ex.get('code', ''))} — "
                f"{escape(ex.get('reason', ''))}"
            )
        if len(excluded) > 5:
            out.print(f"    (and {len(excluded) - 5} more: `podium show RUN --json` lists all)")


def _print_artifacts(out: Console, artifacts: list[Mapping[str, Any]]) -> None:
    if not artifacts:
        return
    table = Table("artifact", "type", "bytes", "made by", "file", title="artifacts")
    for art in artifacts:
        lin = art.get("lineage") or {}
        made = " ".join(str(x) for x in (lin.get("step"), lin.get("model")) if x)
        if lin.get("version"):
            made += f"@{lin['version']}"
        table.add_row(
            art["sha256"][:12],
            art["type"],
            str(art["size"]),
            escape(made),
            escape(art["file"] or ""),
        )
    out.print(table)
