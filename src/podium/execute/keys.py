"""Content keys of the runner: the cache key of a unit of work and the idempotency key of an
attempt.

The cache key is DESIGN's: sha256 of the task, ``model@version``, the normalised inputs (input
artifacts by their hash), the seed and the params. It never depends on the run, so an unchanged
re-run — of this pipeline or another — finds the same key. The idempotency key depends on the
run, the unit, the model and the attempt number, so it is stable across a resume and distinct
for every retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from podium.providers.base import InputArtifact


def normalise(value: Any) -> Any:
    """A JSON-ready, order-independent form of ``value``: artifacts become their hashes."""
    if isinstance(value, InputArtifact):
        return {"artifact": value.sha256}
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 5 and 5.0 ask for the same thing
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def cache_key(
    *,
    task: str,
    model: str,
    prompt: Any,
    inputs: Mapping[str, Any],
    seed: int | None,
    params: Mapping[str, Any],
) -> str:
    """DESIGN's cache key of one unit of work on one model.

    Args:
        task: the step's task.
        model: ``provider/model@version``.
        prompt: the resolved prompt (string or structured fields).
        inputs: slot -> artifact (or tuple of artifacts).
        seed: the unit's seed.
        params: the unit's params.
    """
    doc = {
        "task": str(task),
        "model": model,
        "prompt": normalise(prompt),
        "inputs": normalise(inputs),
        "seed": seed,
        "params": normalise(params),
    }
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def idempotency_key(run_id: str, unit_key: str, model: str, attempt_no: int) -> str:
    """The key a provider sees for one attempt; a remote submit happens at most once per key."""
    raw = f"{run_id}\x1f{unit_key}\x1f{model}\x1f{attempt_no}"
    return "pdm-" + hashlib.sha256(raw.encode()).hexdigest()[:40]
