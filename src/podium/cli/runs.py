"""``podium runs``: the runs Podium remembers, newest first."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from podium.cli._store import cli_store, console, echo_json, money, secs, when
from podium.cli.app import app


@app.command("runs")
def runs_cmd(
    pipeline: str | None = typer.Option(None, "--pipeline", help="Only runs of this pipeline."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many runs."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """List runs, newest first: id, pipeline, status, when, cost and wall time."""
    with cli_store() as store:
        runs = store.journal.list_runs(pipeline=pipeline, limit=limit)
    if as_json:
        docs = []
        for run in runs:
            doc = run.to_dict()
            doc.pop("plan", None)
            docs.append(doc)
        echo_json(docs)
        return
    out = console()
    if not runs:
        where = f" of pipeline '{pipeline}'" if pipeline else ""
        out.print(f"No runs{escape(where)} yet — `podium run FILE` starts one.")
        return
    table = Table("run", "pipeline", "status", "started", "cost", "wall", "error")
    for run in runs:
        table.add_row(
            run.run_id,
            escape(run.pipeline),
            run.status,
            when(run.created_at),
            money(run.cost_usd),
            secs(run.wall_s),
            escape((run.error or "")[:80]),
        )
    out.print(table)
