"""Deterministic seeds: the same spec gives the same seeds in every process, so re-runs hit the
cache (DESIGN, "Seeds")."""

from __future__ import annotations

import hashlib

SEED_MAX = 2**31 - 1  # many models take a signed 32-bit seed


def derive_seed(base: int, step_id: str, index: int) -> int:
    """The seed of variant ``index`` of step ``step_id`` under the pipeline seed ``base``.

    Uses sha256, not ``hash()``, which Python salts per process.

    Args:
        base: the pipeline's ``consistency.seed`` (or ``--seed``).
        step_id: the step.
        index: the variant index (0 for a step without variants).
    """
    digest = hashlib.sha256(f"{base}:{step_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MAX


def step_seed(base: int, step_id: str, index: int, explicit: int | None = None) -> int:
    """A variant's seed: an explicit step seed wins (``seed: 42`` gives 42, 43, ... per variant).

    Args:
        base: the pipeline seed.
        step_id: the step.
        index: the variant index.
        explicit: the step's own ``seed`` (or ``params.seed``), if set.
    """
    if explicit is not None:
        return (explicit + index) % (SEED_MAX + 1)
    return derive_seed(base, step_id, index)
