"""A minimal ``summary.json``, used when no report writer is given to the runner.

``podium.report.summary.write_summary`` (a layer above) writes the full summary.json and
summary.html; the CLI hands it to the runner. This keeps library callers and tests that build
a runner directly with a machine-readable record of the run in its out dir.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from podium.store.base import Journal
from podium.store.records import AttemptRecord


def _fields(record: Any) -> dict[str, Any]:
    """A record's fields for ``json.dumps``: the same document as ``to_dict()``, without its
    deep copy (the records are read-only here and the copy cost more than the whole file)."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def write_minimal_summary(
    run_id: str,
    journal: Journal,
    out_dir: Path,
    plan: Mapping[str, Any],
    attempts: Sequence[AttemptRecord] | None = None,
) -> Path:
    """Write ``summary.json`` (run, steps, attempts, plan) into ``out_dir``; return its path.

    Args:
        run_id: the run.
        journal: where its records are.
        out_dir: where the file goes.
        plan: the plan's document.
        attempts: the run's attempts when the caller has just read them.
    """
    run = journal.get_run(run_id, plan=False)  # the plan is below, once
    if attempts is None:
        attempts = journal.attempts(run_id)
    doc = {
        "run": _fields(run),
        "plan": dict(plan),
        "steps": [_fields(s) for s in journal.steps(run_id)],
        "attempts": [_fields(a) for a in attempts],
    }
    path = out_dir / "summary.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
