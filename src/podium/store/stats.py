"""Figures read back from the ledger, shared by every journal implementation.

A journal selects the rows (the last N finished, non-cached attempts of a model); this module
turns them into :class:`~podium.store.records.ObservedStats`, so the in-memory and SQL journals
can never disagree on what "p95" or "error rate" means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from podium.store.records import AttemptRecord, ObservedStats

#: Attempt states that carry no information about the model (still open, or stopped by us).
OPEN_STATES = frozenset({"submitted", "running"})
#: Failures that say nothing about the model's health: the user's input, our budget, a
#: cancelled hedge loser.
NOT_MODEL_FAULTS = frozenset({"invalid_input", "budget_exceeded", "cancelled"})


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def counts_for_stats(attempt: AttemptRecord) -> bool:
    """Whether an attempt is a sample of the model's latency and reliability."""
    if attempt.cache_hit or attempt.finished_at is None or attempt.status in OPEN_STATES:
        return False
    if attempt.status == "cancelled":
        return False
    return not (attempt.status == "failed" and attempt.error_code in NOT_MODEL_FAULTS)


def model_matches(key: str, attempt: AttemptRecord) -> bool:
    """Whether ``attempt`` belongs to ``key``.

    ``key`` is ``provider/model@version`` (exact), ``provider/model`` (any version) or
    ``provider:NAME`` (every model of a provider).
    """
    if key.startswith("provider:"):
        return attempt.provider == key.removeprefix("provider:")
    if "@" in key:
        return attempt.model == key
    return attempt.model == key or attempt.model.startswith(key + "@")


#: What the figures need of one sample: (status, latency_s, cost_usd).
Sample = tuple[str, float | None, float]


def observed_from(model: str, samples: Iterable[Sample]) -> ObservedStats:
    """Latency percentiles (of successes), error rate and mean cost over ``samples``.

    Args:
        model: the key the figures are for.
        samples: ``(status, latency_s, cost_usd)`` of finished, non-cached attempts that
            :func:`counts_for_stats` accepts, in any order.
    """
    rows = list(samples)
    if not rows:
        return ObservedStats(model, 0, None, None, None, None)
    ok = [(lat, cost) for status, lat, cost in rows if status == "succeeded"]
    latencies = [lat for lat, _ in ok if lat is not None]
    costs = [cost for _, cost in ok]
    return ObservedStats(
        model=model,
        samples=len(rows),
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        error_rate=(len(rows) - len(ok)) / len(rows),
        mean_cost_usd=sum(costs) / len(costs) if costs else None,
    )


def sample(attempt: AttemptRecord) -> Sample:
    """The figures :func:`observed_from` needs of an attempt."""
    return (attempt.status, attempt.latency_s, attempt.cost_usd)


def charged(attempt: AttemptRecord) -> float:
    """What an attempt counts against a budget: its reservation while open, else its cost."""
    if attempt.status in OPEN_STATES:
        return max(attempt.reserved_usd, attempt.cost_usd)
    return attempt.cost_usd
