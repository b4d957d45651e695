"""``podium lock FILE [--upgrade [STEP ...]]``: pin the model@version each step resolves to.

Without ``--upgrade`` steps already in the lock keep their pin (new steps are resolved, removed
ones dropped); ``--upgrade`` re-resolves every step; ``--upgrade STEP`` only the named ones.
A run honours the lock and never writes it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from podium.cli._store import console, echo_json
from podium.cli.app import app, fail
from podium.cli.models import cli_catalog
from podium.cli.plan import load_spec, parse_sets
from podium.plan import Router, parse_policy
from podium.providers.registry import ProviderRegistry
from podium.settings import load_settings
from podium.store.lockfile import load_lock, lock_path, write_lock
from podium.store.open import open_store


def _changes(old: dict[str, str], new: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for step, model in new.items():
        before = old.get(step)
        change = "added" if before is None else ("kept" if before == model else "upgraded")
        rows.append({"step": step, "model": model, "was": before, "change": change})
    rows += [
        {"step": s, "model": None, "was": m, "change": "removed"}
        for s, m in old.items()
        if s not in new
    ]
    return rows


@app.command("lock")
def lock_cmd(
    file: Path = typer.Argument(..., help="The pipeline spec (YAML)."),
    steps: list[str] = typer.Argument(
        None, metavar="[STEP]...", help="With --upgrade: only these."
    ),
    upgrade: bool = typer.Option(False, "--upgrade", help="Re-resolve pinned steps on purpose."),
    sets: list[str] = typer.Option([], "--set", help="Override an input: key=value."),
    policy: str | None = typer.Option(None, "--policy", help="Policy to resolve under."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Write FILE's lock (same name, .lock) pinning each step's provider/model@version."""
    steps = steps or []
    if steps and not upgrade:
        raise fail(f"name steps only with --upgrade: podium lock {file} --upgrade {steps[0]}")
    settings = load_settings()
    catalog = cli_catalog(settings)
    loaded = load_spec(file, parse_sets(sets), strict=False, catalog=catalog)
    step_ids = [s.id for s in loaded.pipeline.steps]
    unknown = [s for s in steps if s not in step_ids]
    if unknown:
        raise fail(
            f"{file}: no step '{unknown[0]}' to upgrade — the steps are {', '.join(step_ids)}"
        )
    existing = load_lock(file)
    old = dict(existing.steps) if existing else {}
    pins = {s: m for s, m in old.items() if s in step_ids}
    if upgrade:
        pins = {s: m for s, m in pins.items() if steps and s not in steps}
    # observed figures count, like in `podium plan`; breakers do not: an outage of a minute
    # must not move a pin meant to last
    store = open_store(settings)
    registry = ProviderRegistry(settings)
    try:
        router = Router(catalog, registry.check, settings, journal=store.journal)
        plan = router.plan(
            loaded, policy=parse_policy(policy) if policy else None, lock=pins or None
        )
    finally:
        store.close()
        asyncio.run(registry.aclose())  # checking a card may have opened an HTTP client
    new = {step_id: d.chosen for step_id, d in plan.decisions.items()}
    path = write_lock(file, loaded.pipeline.name, loaded.spec_hash, new)
    rows = _changes(old, new)
    if as_json:
        echo_json(
            {"lock": str(path), "pipeline": loaded.pipeline.name, "steps": new, "changes": rows}
        )
        return
    out = console()
    for row in rows:
        was = f" (was {row['was']})" if row["change"] == "upgraded" else ""
        model = row["model"] or row["was"]
        out.print(f"  {escape(row['step'])}: {escape(model or '')} — {row['change']}{escape(was)}")
    out.print(f"wrote {escape(str(path))}")


__all__ = ["lock_cmd", "lock_path"]
