"""``podium run FILE``: plan and run a pipeline, with a live view on stderr.

Outputs land in ``./podium-out/<pipeline>/<run-id>/`` (or ``--out``) with ``summary.json`` and
``summary.html``; ``--json`` prints DESIGN's run document on stdout and nothing else. A pipeline
with an unfinished run asks whether to resume it on a terminal; ``--resume`` / ``--new`` decide
otherwise. Ctrl-C stops gracefully and leaves the run resumable with ``podium resume RUN``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from podium.catalog import Catalog
from podium.cli.app import app, err_console
from podium.cli.models import cli_catalog
from podium.cli.plan import load_spec, parse_sets
from podium.errors import PodiumError
from podium.execute import LocalExecutor, RunEvent, Runner, RunOutcome, local_runner
from podium.execute.progress import ProgressView
from podium.execute.runner import check_budget
from podium.plan import parse_policy
from podium.providers.registry import ProviderRegistry
from podium.report.summary import write_summary
from podium.settings import Settings, load_settings
from podium.spec.loader import LoadedSpec
from podium.store.lockfile import read_lock
from podium.store.open import Store, open_store

UNFINISHED = ("running", "interrupted", "cancelling")


@dataclass
class Session:
    """Everything one command needs to run pipelines."""

    settings: Settings
    catalog: Catalog
    store: Store
    executor: LocalExecutor
    registry: ProviderRegistry
    runner: Runner


@contextmanager
def session(settings: Settings) -> Iterator[Session]:
    """Open the store, the worker pool and the providers; close them all afterwards."""
    catalog = cli_catalog(settings)
    store = open_store(settings)

    def summarize(run_id: str, out_dir: Path, plan: Mapping[str, Any]) -> tuple[Path, Path]:
        return write_summary(run_id, store.journal, store.artifacts, out_dir, plan)

    runner, registry, executor = local_runner(settings, catalog, store, summarize=summarize)
    # what lives as long as the command (modules, the catalog, schemas) leaves the collector's
    # scans: a full collection in the middle of a run then takes about a millisecond, not 35
    gc.freeze()
    try:
        yield Session(settings, catalog, store, executor, registry, runner)
    finally:
        gc.unfreeze()  # collectable again (the command may be one call in a longer process)
        asyncio.run(executor.shutdown())  # through the Executor protocol, as any executor
        store.close()


async def run_with(
    s: Session, loaded: LoadedSpec, *, progress: bool, seen: list[str] | None = None, **kwargs: Any
) -> RunOutcome:
    """Run on ``s``, with the live view on stderr when ``progress``; close providers after.

    ``seen`` receives the run id as soon as the run exists (for the Ctrl-C message).
    """
    found = seen if seen is not None else []

    def remember(event: RunEvent) -> None:
        if event.kind == "run" and not found:
            found.append(event.key)

    try:
        if not progress:
            return await s.runner.run(loaded, on_event=remember, **kwargs)
        with ProgressView([st.id for st in loaded.pipeline.steps], err_console) as view:

            def both(event: RunEvent) -> None:
                remember(event)
                view(event)

            return await s.runner.run(loaded, on_event=both, **kwargs)
    finally:
        await s.registry.aclose()


def interrupted(seen: list[str]) -> typer.Exit:
    """The Ctrl-C message (the run stays resumable) and the exit to raise."""
    if seen:
        err_console.print(f"interrupted; resume with: podium resume {seen[0]}", markup=False)
    else:
        err_console.print("interrupted before the run started", markup=False)
    return typer.Exit(130)


def report(outcome: RunOutcome, as_json: bool) -> None:
    """Print the outcome (JSON on stdout, or lines on stderr) and exit with its status."""
    if as_json:
        typer.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        err_console.print(
            f"run {outcome.run_id}: {outcome.status} in {outcome.wall_s:.1f} s, "
            f"${outcome.cost_usd:.4f} — {outcome.out_dir}",
            markup=False,
        )
        if outcome.summary:
            err_console.print(f"summary: {outcome.summary.with_suffix('.html')}", markup=False)
    for step, error in outcome.errors.items():
        err_console.print(f"error: {step_line(step, error)}", markup=False)
    if outcome.status == "succeeded":
        return
    if outcome.status in ("cancelled", "interrupted"):
        err_console.print(f"resume with: podium resume {outcome.run_id}", markup=False)
        raise typer.Exit(130)
    raise typer.Exit(1)


def step_line(step: str, error: str) -> str:
    """A step's error, naming the step once (most errors name it already, often with the
    model: ``step img, model fal/flux@1: ...``)."""
    if re.match(rf"step {re.escape(step)}\b(?![-\w])", error):
        return error
    return f"step {step}: {error}"


def unfinished_run(s: Session, loaded: LoadedSpec) -> str | None:
    """The newest unfinished run of the same spec, if any."""
    for run in s.store.journal.list_runs(loaded.pipeline.name, limit=20):
        if run.status in UNFINISHED and run.spec_hash == loaded.spec_hash:
            return run.run_id
    return None


@app.command("run")
def run_cmd(
    file: Path = typer.Argument(..., help="The pipeline spec (YAML)."),
    sets: list[str] = typer.Option([], "--set", help="Override an input: key=value."),
    policy: str | None = typer.Option(None, "--policy", help="cheapest, fastest, best, balanced."),
    budget: float | None = typer.Option(None, "--budget", help="Run budget in USD."),
    out: Path | None = typer.Option(None, "--out", help="Output folder."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
    strict: bool = typer.Option(False, "--strict", help="Prompt warnings are errors."),
    force: bool = typer.Option(False, "--force", help="Run even if the estimate is over budget."),
    resume: bool | None = typer.Option(
        None, "--resume/--new", help="Resume the unfinished run of this spec, or start anew."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Pipeline seed (consistency.seed)."),
    profile: str | None = typer.Option(None, "--profile", help="Output profile: demo|delivery."),
) -> None:
    """Run a pipeline: choose models, run steps as their inputs are ready, store the outputs."""
    if profile is not None and profile not in ("demo", "delivery"):
        raise PodiumError(f"unknown profile {profile!r}", hint="use --profile demo or delivery")
    check_budget(budget)
    settings = load_settings(**({"profile": profile} if profile else {}))
    chosen_policy = parse_policy(policy) if policy else None
    with session(settings) as s:
        loaded = load_spec(file, parse_sets(sets), strict=strict, catalog=s.catalog)
        resume_id = None
        previous = unfinished_run(s, loaded)
        if previous is not None:
            if resume is None and sys.stdin.isatty() and sys.stderr.isatty():
                resume = typer.confirm(f"run {previous} did not finish; resume it?", default=True)
            if resume:
                resume_id = previous
            elif resume is None:
                err_console.print(
                    f"note: run {previous} did not finish; starting a new run "
                    f"(`podium resume {previous}` continues it)",
                    markup=False,
                )
        seen: list[str] = []
        try:
            outcome = asyncio.run(
                run_with(
                    s,
                    loaded,
                    progress=not as_json or sys.stderr.isatty(),
                    seen=seen,
                    policy=chosen_policy,
                    budget_usd=budget,
                    out_dir=out,
                    force=force,
                    resume_run_id=resume_id,
                    lock=read_lock(loaded.path) if loaded.path else None,
                    seed=seed,
                )
            )
        except KeyboardInterrupt:
            raise interrupted(seen) from None
    report(outcome, as_json)
