"""Policies: how the router weighs cost, latency, quality and reliability.

A score is the weighted mean of four figures in 0..1, higher is better:

- cost: ``1 - n(cost)`` where ``n`` measures how many times dearer than the cheapest eligible
  candidate a model is, on a log scale where ten times (or more) counts as fully worse: twice
  the price costs the same share of the score whatever the amounts;
- latency: ``1 - n(p95 + cold start)``, the same way;
- quality: the card's quality 0–1, as is;
- reliability: ``1 - error rate``, as is.

Measuring against the best candidate, not between best and worst, keeps small differences
small: 0.6 s against 2.8 s matters less than 6 s against 280 s.

The named policies put their weight on one figure and keep a little on the others, so that
among near-equal candidates (several free local engines for ``cheapest``) the better one wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import ValidationError

from podium.errors import PodiumError, validation_message
from podium.spec.models import Weights

NAMED: dict[str, Weights] = {
    "cheapest": Weights(cost=1.0, quality=0.03, reliability=0.01, latency=0.01),
    "fastest": Weights(latency=1.0, reliability=0.03, quality=0.01, cost=0.01),
    "best": Weights(quality=1.0, reliability=0.03, latency=0.01, cost=0.01),
    "balanced": Weights(cost=0.3, latency=0.2, quality=0.35, reliability=0.15),
}

# Offsets of the log scales: differences far below a tenth of a cent or a second do not matter
# to anyone, and free or instant models must not sit infinitely far from the rest.
COST_FLOOR_USD = 0.001
LATENCY_FLOOR_S = 1.0
#: How many times the best value counts as fully worse.
SPAN = 10.0


def policy_name(policy: str | Weights) -> str:
    """A short printable name: ``balanced`` or ``weights(cost=1,quality=0.5)``."""
    if isinstance(policy, str):
        return policy
    parts = [f"{k}={v:g}" for k, v in policy.model_dump().items() if v]
    return f"weights({','.join(parts)})"


def resolve(policy: str | Weights) -> Weights:
    """The weights of a named policy or explicit weights.

    Raises:
        PodiumError: an unknown name (weights are checked when made: see ``Weights``).
    """
    if isinstance(policy, Weights):
        return policy
    if policy in NAMED:
        return NAMED[policy]
    raise PodiumError(
        f"unknown policy {policy!r}",
        hint="use cheapest, fastest, best, balanced or weights like cost=1,quality=2",
    )


def parse_policy(text: str) -> str | Weights:
    """A policy from the command line: a name, or ``cost=1,quality=2`` weights.

    Raises:
        PodiumError: not a known name and not valid weights.
    """
    text = text.strip()
    if "=" not in text:
        resolve(text)
        return text
    values: dict[str, float] = {}
    for part in text.split(","):
        key, _, raw = part.partition("=")
        key = key.strip()
        if key not in Weights.model_fields:
            raise PodiumError(
                f"unknown policy weight {key!r}",
                hint="weights are cost, latency, quality and reliability",
            )
        try:
            values[key] = float(raw)
        except ValueError:
            raise PodiumError(
                f"policy weight {key}={raw!r} is not a number", hint="e.g. cost=1,quality=2"
            ) from None
    try:  # finite, none below 0, one above 0: the model's own rules, as in a spec
        return Weights(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise PodiumError(
            f"policy {text!r}: {field + ': ' if field else ''}{validation_message(first)}",
            hint="e.g. cost=1,quality=2",
        ) from None


def log_scale(values: Sequence[float], floor: float, span: float = SPAN) -> list[float]:
    """How far each value is above the smallest, 0..1: ``log((v + floor) / (min + floor))``
    over ``log(span)``, capped at 1."""
    if not values:
        return []
    base = min(values) + floor
    scale = math.log(span)
    return [min(1.0, math.log((v + floor) / base) / scale) for v in values]


def scores(
    weights: Weights,
    costs: Sequence[float],
    latencies: Sequence[float],
    qualities: Sequence[float],
    reliabilities: Sequence[float],
) -> list[float]:
    """The score of each candidate (same order as the inputs), 0..1, higher is better."""
    cost_n = log_scale(costs, COST_FLOOR_USD)
    lat_n = log_scale(latencies, LATENCY_FLOOR_S)
    total = weights.cost + weights.latency + weights.quality + weights.reliability
    return [
        (
            weights.cost * (1.0 - c)
            + weights.latency * (1.0 - lat)
            + weights.quality * q
            + weights.reliability * r
        )
        / total
        for c, lat, q, r in zip(cost_n, lat_n, qualities, reliabilities, strict=True)
    ]
