"""Diff two runs: which steps changed model@version, params or output.

Steps are matched by key (``hero``, ``hero[1]``). A step's params and seed are read from the
lineage of its outputs, so the diff shows what really ran, not what the spec asked for.
"""

from __future__ import annotations

from typing import Any

from podium.store.base import ArtifactStore, Journal
from podium.store.records import StepRecord


def _side(step: StepRecord, artifacts: ArtifactStore) -> dict[str, Any]:
    params: dict[str, Any] = {}
    seed = None
    for sha in step.outputs:
        try:
            lineage = artifacts.get(sha).lineage
        except KeyError:
            continue
        params = dict(lineage.get("params") or {})
        seed = lineage.get("seed")
        break
    return {
        "status": step.status,
        "model": step.model,
        "params": params,
        "seed": seed,
        "outputs": list(step.outputs),
        "cost_usd": step.cost_usd,
        "cache_key": step.cache_key,
    }


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    changed = []
    if a["model"] != b["model"]:
        changed.append("model")
    if a["params"] != b["params"]:
        changed.append("params")
    if a["seed"] != b["seed"]:
        changed.append("seed")
    if a["outputs"] != b["outputs"]:
        changed.append("output")
    if a["status"] != b["status"]:
        changed.append("status")
    return changed


def diff_runs(run_a: str, run_b: str, journal: Journal, artifacts: ArtifactStore) -> dict[str, Any]:
    """Compare two runs step by step.

    Args:
        run_a: the first run (a unique prefix is enough).
        run_b: the second run.
        journal: where the runs are.
        artifacts: where their outputs' lineage is.

    Returns:
        ``{a, b, spec_changed, cost_usd: {a, b}, steps: [{key, change, changes, a, b}],
        counts}`` where ``change`` is ``same``, ``changed``, ``added`` or ``removed``.

    Raises:
        KeyError: either run is unknown.
    """
    ra, rb = journal.get_run(run_a), journal.get_run(run_b)
    steps_a = {s.key: s for s in journal.steps(ra.run_id)}
    steps_b = {s.key: s for s in journal.steps(rb.run_id)}
    keys = list(steps_a) + [k for k in steps_b if k not in steps_a]
    rows = []
    for key in keys:
        changes: list[str] = []
        a = _side(steps_a[key], artifacts) if key in steps_a else None
        b = _side(steps_b[key], artifacts) if key in steps_b else None
        if a is None:
            change = "added"
        elif b is None:
            change = "removed"
        else:
            changes = _changes(a, b)
            change = "changed" if changes else "same"
        rows.append({"key": key, "change": change, "changes": changes, "a": a, "b": b})
    counts = {
        c: sum(r["change"] == c for r in rows) for c in ("same", "changed", "added", "removed")
    }
    return {
        "a": ra.run_id,
        "b": rb.run_id,
        "pipeline": {"a": ra.pipeline, "b": rb.pipeline},
        "spec_changed": ra.spec_hash != rb.spec_hash,
        "cost_usd": {"a": ra.cost_usd, "b": rb.cost_usd},
        "steps": rows,
        "counts": counts,
    }
