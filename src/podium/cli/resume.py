"""``podium resume RUN``: continue an unfinished run where it stopped.

Finished steps are not redone; remote attempts that were in flight are resumed by polling their
request id (never resubmitted); local ones are run again.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer

from podium.cli._store import unknown_run
from podium.cli.app import app, err_console, fail
from podium.cli.plan import load_spec
from podium.cli.run import interrupted, report, run_with, session
from podium.errors import PodiumError
from podium.execute.runner import check_budget, text_sha
from podium.settings import load_settings
from podium.store.lockfile import read_lock


def sets_from(inputs: dict[str, Any]) -> dict[str, str]:
    """A run's resolved inputs as ``--set`` values the loader coerces back."""
    out = {}
    for key, value in inputs.items():
        if value is None:
            continue
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


@app.command("resume")
def resume_cmd(
    run_id: str = typer.Argument(..., help="The run (a unique prefix is enough)."),
    budget: float | None = typer.Option(None, "--budget", help="Budget in USD for the run."),
    force: bool = typer.Option(False, "--force", help="Resume even if the spec changed."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Continue a run: finished steps are kept, remote jobs in flight are polled, not redone."""
    check_budget(budget)
    settings = load_settings()
    with session(settings) as s:
        try:
            run = s.store.journal.get_run(run_id)
        except KeyError as exc:
            raise unknown_run(run_id, exc) from None
        if run.status == "succeeded":  # nothing to do: its outputs and summary stay as they are
            if as_json:
                summary = Path(run.out_dir) / "summary.json" if run.out_dir else None
                doc = {
                    "run_id": run.run_id,
                    "status": run.status,
                    "out_dir": run.out_dir,
                    "summary": str(summary) if summary and summary.exists() else None,
                    "cost_usd": run.cost_usd,
                    "wall_s": run.wall_s,
                    "resumed": False,
                }
                typer.echo(json.dumps(doc, indent=2))
            err_console.print(
                f"run {run.run_id} already succeeded; nothing to resume (`podium show "
                f"{run.run_id}`)",
                markup=False,
            )
            return
        if not run.spec_path or not Path(run.spec_path).exists():
            raise fail(
                f"run {run.run_id}: its spec {run.spec_path or '(none)'} is gone — put it back "
                "there to resume, or start a new run with `podium run`"
            )
        loaded = load_spec(
            Path(run.spec_path), sets_from(run.inputs), strict=False, catalog=s.catalog
        )
        recorded = run.plan.get("spec_text_sha256")
        if recorded and recorded != text_sha(loaded) and not force:
            raise PodiumError(
                f"{run.spec_path} changed since run {run.run_id} started",
                where=f"run {run.run_id}",
                hint="start a new run (`podium run`), or pass --force to resume anyway",
            )
        seen: list[str] = []
        try:
            outcome = asyncio.run(
                run_with(
                    s,
                    loaded,
                    progress=not as_json,
                    seen=seen,
                    budget_usd=budget if budget is not None else run.budget_usd,
                    out_dir=Path(run.out_dir) if run.out_dir else None,
                    force=True,  # the estimate was checked when the run started
                    resume_run_id=run.run_id,
                    lock=read_lock(loaded.path) if loaded.path else None,
                )
            )
        except KeyboardInterrupt:
            raise interrupted(seen) from None
    report(outcome, as_json)
