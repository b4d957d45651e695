"""Builders of store records for tests (real records, written through the interfaces)."""

from __future__ import annotations

import time
from typing import Any

from podium.store.records import AttemptRecord, RunRecord, StepRecord


def run(run_id: str, pipeline: str = "promo", **fields: Any) -> RunRecord:
    """A run record with sensible defaults."""
    now = fields.pop("created_at", time.time())
    values: dict[str, Any] = {
        "spec_path": None,
        "spec_hash": "0" * 64,
        "status": "running",
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return RunRecord(run_id=run_id, pipeline=pipeline, **values)


def step(run_id: str, key: str, **fields: Any) -> StepRecord:
    """A step record (``step_id`` is the key without its ``[i]`` suffix)."""
    values: dict[str, Any] = {"step_id": key.split("[")[0], "status": "succeeded"}
    values.update(fields)
    return StepRecord(run_id=run_id, key=key, **values)


def attempt(attempt_id: str, run_id: str = "run1", **fields: Any) -> AttemptRecord:
    """An attempt record; ``finished_at`` follows ``started_at + latency_s``."""
    started = fields.pop("started_at", time.time())
    latency = fields.get("latency_s")
    values: dict[str, Any] = {
        "step_key": "image",
        "model": "fake/image@1",
        "provider": "fake",
        "idempotency_key": f"idem-{attempt_id}",
        "status": "succeeded",
        "started_at": started,
        "finished_at": started + (latency or 0.0),
    }
    values.update(fields)
    return AttemptRecord(attempt_id=attempt_id, run_id=run_id, **values)
