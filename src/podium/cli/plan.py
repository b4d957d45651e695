"""``podium plan FILE``: which model runs each step, which stand by, what it should cost and
take, and why — without running anything."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from podium.catalog import Catalog
from podium.catalog.checks import validate_file
from podium.cli.app import app, err_console
from podium.cli.models import cli_catalog, wide_console
from podium.errors import PodiumError
from podium.plan import Candidate, Decision, NoModel, Plan, Router, parse_policy
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings, load_settings
from podium.spec.loader import LoadedSpec
from podium.store.base import Journal, StateStore
from podium.store.lockfile import read_lock
from podium.store.open import open_store


@app.command("plan")
def plan_cmd(
    file: Path = typer.Argument(..., help="The pipeline spec (YAML)."),
    sets: list[str] = typer.Option([], "--set", help="Override an input: key=value."),
    policy: str | None = typer.Option(
        None, "--policy", help="cheapest, fastest, best, balanced, or weights cost=1,quality=2."
    ),
    budget: float | None = typer.Option(None, "--budget", help="Run budget in USD."),
    strict: bool = typer.Option(False, "--strict", help="Prompt warnings are errors."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show the plan: per step the chosen model, fallbacks, estimate and every candidate's
    score or the reason it was excluded; totals for the pipeline."""
    settings = load_settings()
    chosen_policy = parse_policy(policy) if policy else None
    catalog = cli_catalog(settings)
    loaded = load_spec(file, parse_sets(sets), strict=strict, catalog=catalog)
    journal, state = _open_stats(settings)
    router = Router(
        catalog, ProviderRegistry(settings).check, settings, journal=journal, state=state
    )
    try:
        plan = router.plan(
            loaded, policy=chosen_policy, budget_usd=budget, lock=_read_lock(loaded.path)
        )
    except NoModel as exc:
        if not as_json:
            console = wide_console()
            for decision in exc.decided.values():
                print_decision(console, decision)
            console.print(f"[bold]{escape(exc.step_id)}[/bold]: no eligible model")
            console.print(candidate_table(exc.candidates))
        raise
    if as_json:
        typer.echo(json.dumps(plan.to_json(), indent=2))
        return
    print_plan(wide_console(), plan)


def parse_sets(items: Iterable[str]) -> dict[str, str]:
    """``--set key=value`` options as a mapping.

    Raises:
        PodiumError: an item without ``=``.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PodiumError(f"--set {item!r} is not key=value", hint="e.g. --set product=Soda")
        out[key.strip()] = value
    return out


def load_spec(file: Path, sets: Mapping[str, str], *, strict: bool, catalog: Catalog) -> LoadedSpec:
    """Load and check a spec (structure, references, catalog, prompt linter); print its
    warnings on stderr.

    Raises:
        SpecError: every problem of the spec (``podium.cli.app.main`` prints them, exit 2).
    """
    loaded, warnings = validate_file(file, catalog, sets, strict)
    for problem in warnings:
        err_console.print(problem.one_line(), markup=False)
    return loaded


def _read_lock(path: Path | None) -> dict[str, str] | None:
    return read_lock(path) if path is not None else None


def _open_stats(settings: Settings) -> tuple[Journal | None, StateStore | None]:
    """The journal and breaker states, when a store exists already (planning creates none)."""
    if settings.database_url is None and not (settings.home / "podium.db").exists():
        return None, None
    store = open_store(settings)
    return store.journal, store.state


def print_plan(console: Console, plan: Plan) -> None:
    """The plan as people read it: a block per step, then the totals."""
    console.print(f"[bold]{escape(plan.pipeline)}[/bold] — policy {escape(plan.policy)}")
    for decision in plan.decisions.values():
        print_decision(console, decision)
    console.print(
        f"[bold]total[/bold]: ${plan.total_cost_usd:.4f}, critical path "
        f"{seconds(plan.critical_path_s)}"
    )


def print_decision(console: Console, decision: Decision, indent: str = "") -> None:
    """One step: chosen model, fallbacks, estimate, and the candidate table."""
    est = decision.estimate
    console.print(
        f"{indent}[bold]{escape(decision.step_id)}[/bold] ({decision.task}, "
        f"{escape(decision.policy)}) → [green]{escape(decision.chosen)}[/green]  "
        f"est ${est.cost_usd:.4f}, {seconds(est.latency_s)}"
    )
    if decision.fallbacks:
        console.print(f"{indent}  fallbacks: {escape(', '.join(decision.fallbacks))}")
    console.print(candidate_table(decision.candidates))
    if decision.scorer is not None:
        print_decision(console, decision.scorer, indent + "  ")


def candidate_table(candidates: Iterable[Candidate]) -> Table:
    """Every candidate with its score, figures and, when excluded, the reason."""
    table = Table("model", "score", "cost", "p95", "quality", "reliab.", "why", box=None)
    for cand in candidates:
        if cand.excluded is not None:
            why = f"[yellow]{cand.excluded.code}[/yellow]: {escape(cand.excluded.reason)}"
            score = "—"
        else:
            why = escape(_observed_text(cand.observed, cand.prior))
            score = f"{cand.score:.4f}"
        table.add_row(
            escape(cand.model),
            score,
            f"${cand.cost_usd:.4f}",
            seconds(cand.latency_p95_s),
            f"{cand.quality:.2f}",
            f"{cand.reliability:.3f}",
            why,
        )
    return table


def _observed_text(observed: Mapping[str, Any] | None, prior: Mapping[str, float]) -> str:
    if not observed:
        return "priors"
    p95 = observed.get("latency_p95_s")
    err = observed.get("error_rate")
    figures = ", ".join(
        part
        for part in (
            f"p95 {seconds(p95)}" if p95 is not None else "",
            f"errors {err:.1%}" if err is not None else "",
        )
        if part
    )
    samples = observed["samples"]
    if observed.get("used"):
        return (
            f"observed {figures} over {samples} samples (priors were p95 "
            f"{seconds(prior['latency_p95_s'])}, errors {prior['error_rate']:.1%})"
        )
    needed = observed.get("min_samples", "?")
    return f"priors kept: {samples} of {needed} samples needed (observed {figures})"


def seconds(value: float) -> str:
    """``850 ms`` below a second, ``12.4 s`` above."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"
