"""Cost and latency estimates of a step on a model, and the critical path of a plan.

Cost: the card's price per image × calls, per output second × duration × calls, per 1k
characters of the resolved text × calls, per call, or per compute second × p50. A card that
declares a ``cost_usd`` param (the testing provider does) states a call's price through it.

Latency: p95 of one call plus the cold start. Remote calls of a fan-out run side by side; local
engines share ``settings.workers`` processes, so their calls queue. A card that declares a
``latency_s`` param states a call's time through it, as with ``cost_usd``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from podium.catalog.card import ModelCard
from podium.plan.facts import StepFacts


def call_cost(card: ModelCard, facts: StepFacts, p50_s: float | None = None) -> float:
    """Expected price in USD of one call of ``card`` for the step.

    Args:
        card: the model.
        facts: what the step asks.
        p50_s: median latency to bill compute seconds by (default: the card's prior).
    """
    stated = facts.step.params.get("cost_usd")
    if "cost_usd" in card.params and isinstance(stated, int | float):
        return float(stated)
    unit = card.price.unit
    if unit == "output_second":
        return card.price.usd * facts.est_duration_s
    if unit == "1k_chars":
        return card.price.usd * facts.chars / 1000.0
    if unit == "compute_second":
        return card.price.usd * (p50_s if p50_s is not None else card.priors.latency_p50_s)
    return card.price_for(images=1)


def stated_latency(card: ModelCard, facts: StepFacts) -> float | None:
    """The time of one call as the step states it, for a card that declares a ``latency_s``
    param (the testing provider does: its calls take exactly that long), else ``None``."""
    stated = facts.step.params.get("latency_s")
    if "latency_s" in card.params and isinstance(stated, int | float):
        return float(stated)
    return None


def step_latency(card: ModelCard, facts: StepFacts, p95_s: float, workers: int) -> float:
    """Expected wall time of the step's calls on ``card``: p95 per wave plus the cold start.

    Args:
        card: the model.
        facts: what the step asks.
        p95_s: p95 latency of one call (observed or prior).
        workers: local worker processes (how many local calls run at once).
    """
    waves = 1 if not card.offline else math.ceil(facts.calls / max(workers, 1))
    return card.priors.cold_start_s + p95_s * waves


def critical_path(latency: Mapping[str, float], deps: Mapping[str, Iterable[str]]) -> float:
    """The longest chain of dependent steps, in seconds: the rank of its first step.

    Args:
        latency: each step's expected wall time.
        deps: each step's upstream step ids (unknown ids are ignored).
    """
    return max(ranks(latency, deps).values(), default=0.0)


def ranks(latency: Mapping[str, float], deps: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """Each step's rank: its own expected time plus the longest chain of steps that wait on it
    (seconds) — how much of the run is still ahead once it starts. Starting the highest-ranked
    ready work first keeps the critical path moving when workers are scarce.

    Args:
        latency: each step's expected wall time.
        deps: each step's upstream step ids (unknown ids are ignored).
    """
    after: dict[str, list[str]] = {s: [] for s in latency}
    for step_id in latency:
        for d in deps.get(step_id, ()):
            if d in after and d != step_id:
                after[d].append(step_id)
    rank: dict[str, float] = {}

    def ahead(step_id: str, trail: frozenset[str]) -> float:
        if step_id not in rank:
            nxt = [ahead(n, trail | {step_id}) for n in after[step_id] if n not in trail]
            rank[step_id] = latency[step_id] + max(nxt, default=0.0)
        return rank[step_id]

    for step_id in latency:
        ahead(step_id, frozenset())
    return rank
