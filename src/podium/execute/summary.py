"""A minimal ``summary.json``, used when no report writer is given to the runner.

``podium.report.summary.write_summary`` (a layer above) writes the full summary.json and
summary.html; the CLI hands it to the runner. This keeps library callers and tests that build
a runner directly with a machine-readable record of the run in its out dir.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from podium.store.base import Journal


def write_minimal_summary(
    run_id: str, journal: Journal, out_dir: Path, plan: Mapping[str, Any]
) -> Path:
    """Write ``summary.json`` (run, steps, attempts, plan) into ``out_dir``; return its path."""
    run = dataclasses.replace(journal.get_run(run_id), plan={})  # the plan is below, once
    doc = {
        "run": run.to_dict(),
        "plan": dict(plan),
        "steps": [s.to_dict() for s in journal.steps(run_id)],
        "attempts": [a.to_dict() for a in journal.attempts(run_id)],
    }
    path = out_dir / "summary.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, default=str), encoding="utf-8")
    tmp.replace(path)
    return path
