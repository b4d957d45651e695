"""``podium diff RUN_A RUN_B``: which steps changed model@version, params or output."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from podium.cli._store import cli_store, console, echo_json, money, unknown_run
from podium.cli.app import app
from podium.report.diff import diff_runs


def _cell(side: dict[str, Any] | None, field: str) -> str:
    if side is None:
        return "—"
    value = side[field]
    if field == "outputs":
        return ", ".join(sha[:10] for sha in value)
    if field == "params":
        return ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
    return "" if value is None else str(value)


@app.command("diff")
def diff_cmd(
    run_a: str = typer.Argument(..., metavar="RUN_A", help="The first run."),
    run_b: str = typer.Argument(..., metavar="RUN_B", help="The second run."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    all_steps: bool = typer.Option(False, "--all", help="Also list unchanged steps."),
) -> None:
    """Compare two runs step by step: model@version, params, seed, output, status."""
    with cli_store() as store:
        for run_id in (run_a, run_b):
            try:
                store.journal.get_run(run_id)
            except KeyError as exc:
                raise unknown_run(run_id, exc) from None
        doc = diff_runs(run_a, run_b, store.journal, store.artifacts)
    if as_json:
        echo_json(doc)
        return
    out = console()
    counts = doc["counts"]
    out.print(
        f"{doc['a']} → {doc['b']}: {counts['changed']} changed, {counts['same']} same, "
        f"{counts['added']} added, {counts['removed']} removed; cost "
        f"{money(doc['cost_usd']['a'])} → {money(doc['cost_usd']['b'])}"
        + ("; the spec changed" if doc["spec_changed"] else "")
    )
    rows = [r for r in doc["steps"] if all_steps or r["change"] != "same"]
    if not rows:
        out.print("Every step made the same output with the same model and params.")
        return
    table = Table("step", "change", "model", "params", "output")
    for row in rows:
        what = row["change"] + (f" ({', '.join(row['changes'])})" if row["changes"] else "")
        cells = []
        for field in ("model", "params", "outputs"):
            a, b = _cell(row["a"], field), _cell(row["b"], field)
            cells.append(escape(a if a == b else f"{a} → {b}"))
        table.add_row(escape(row["key"]), what, *cells)
    out.print(table)
