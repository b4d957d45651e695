"""The router's answer, as frozen data: a :class:`Plan` holds one :class:`Decision` per step.

A decision records every candidate the router looked at, with its score or the reason it was
excluded, so ``podium plan`` and the run summary can say *why* a model runs.
``Plan.to_json()`` is exactly DESIGN's ``podium plan --json`` document; ``to_dict()`` on a
decision keeps everything (priors, observed figures) for the run's records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why a candidate cannot run this step.

    Attributes:
        code: stable code (``task``, ``outputs``, ``limits``, ``params``, ``needs``,
            ``unavailable``, ``pin``, ``lock``, ``exclude``, ``max_cost``, ``max_latency``,
            ``min_quality``, ``budget``, ``circuit_open``).
        reason: one line a user can act on.
    """

    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Estimate:
    """Expected cost and p95 latency of a step (all its calls).

    Attributes:
        cost_usd: expected spend in USD.
        latency_s: expected wall time in seconds (p95, cold start included).
    """

    cost_usd: float
    latency_s: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form, rounded for people."""
        return {"cost_usd": round(self.cost_usd, 6), "latency_s": round(self.latency_s, 3)}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One model the router considered for a step.

    Attributes:
        model: ``provider/model@version``.
        score: the policy score (higher is better), ``None`` when excluded.
        excluded: why it cannot run, ``None`` when eligible.
        cost_usd: expected cost of the step on this model.
        latency_p95_s: p95 latency of one call (observed when there are enough samples).
        quality: quality 0–1 (the card's prior).
        reliability: 1 - error rate (observed when there are enough samples).
        prior: the card's priors (``latency_p95_s``, ``error_rate``, ``quality``).
        observed: figures from the ledger (``samples``, ``latency_p50_s``, ``latency_p95_s``,
            ``error_rate``, ``used``), or ``None`` when no journal or no samples.
        latency_s: expected wall time of the step on this model (calls, cold start).
    """

    model: str
    score: float | None
    excluded: Exclusion | None
    cost_usd: float
    latency_p95_s: float
    quality: float
    reliability: float
    prior: Mapping[str, float] = field(default_factory=dict)
    observed: Mapping[str, Any] | None = None
    latency_s: float = 0.0

    @property
    def eligible(self) -> bool:
        """Whether the candidate may run the step."""
        return self.excluded is None

    def to_json(self) -> dict[str, Any]:
        """DESIGN's shape: ``{model, score}`` or ``{model, excluded: {code, reason}}``."""
        if self.excluded is not None:
            return {"model": self.model, "excluded": self.excluded.to_dict()}
        return {"model": self.model, "score": round(self.score or 0.0, 4)}

    def to_dict(self) -> dict[str, Any]:
        """Everything, for run records and summaries."""
        return {
            **self.to_json(),
            "cost_usd": round(self.cost_usd, 6),
            "latency_p95_s": round(self.latency_p95_s, 3),
            "latency_s": round(self.latency_s, 3),
            "quality": self.quality,
            "reliability": round(self.reliability, 4),
            "prior": dict(self.prior),
            "observed": dict(self.observed) if self.observed is not None else None,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """Which model runs a step, its fallbacks, and why.

    Attributes:
        step_id: the step.
        task: the step's task.
        chosen: ``provider/model@version`` of the primary model.
        fallbacks: the next models to try, in order.
        candidates: every model considered, eligible ones first, best first.
        estimate: expected cost and latency of the step on the chosen model.
        policy: the policy the step was scored under (a name or ``weights(...)``).
        scorer: for a step with ``select``, the decision for its ``score`` model.
    """

    step_id: str
    task: str
    chosen: str
    fallbacks: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    estimate: Estimate
    policy: str
    scorer: Decision | None = None

    @property
    def chain(self) -> tuple[str, ...]:
        """The chosen model followed by its fallbacks: the order the runner tries them in."""
        return (self.chosen, *self.fallbacks)

    def candidate(self, model: str) -> Candidate:
        """The candidate for ``model`` (``provider/model`` or with ``@version``)."""
        for cand in self.candidates:
            if cand.model == model or cand.model.split("@")[0] == model:
                return cand
        raise KeyError(model)

    def to_json(self) -> dict[str, Any]:
        """One step of DESIGN's ``podium plan --json`` document."""
        out: dict[str, Any] = {
            "id": self.step_id,
            "task": self.task,
            "chosen": self.chosen,
            "fallbacks": list(self.fallbacks),
            "candidates": [c.to_json() for c in self.candidates],
            "estimate": self.estimate.to_dict(),
        }
        if self.scorer is not None:
            out["select"] = self.scorer.to_json()
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything (priors and observed figures of every candidate), for run records."""
        out = self.to_json()
        out["policy"] = self.policy
        out["candidates"] = [c.to_dict() for c in self.candidates]
        if self.scorer is not None:
            out["select"] = self.scorer.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """The router's answer for a whole pipeline.

    Attributes:
        pipeline: the pipeline's name.
        policy: the pipeline-level policy (a name or ``weights(...)``).
        decisions: one decision per step, in the spec's order.
        total_cost_usd: expected spend of the whole run (scorers included).
        critical_path_s: expected wall time: the slowest chain of dependent steps.
        ranks: per step, its expected time plus the slowest chain of steps waiting on it (the
            runner's priority for local workers).
    """

    pipeline: str
    policy: str
    decisions: Mapping[str, Decision]
    total_cost_usd: float
    critical_path_s: float
    ranks: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """DESIGN's ``podium plan --json`` document."""
        return {
            "pipeline": self.pipeline,
            "policy": self.policy,
            "steps": [d.to_json() for d in self.decisions.values()],
            "total": {
                "cost_usd": round(self.total_cost_usd, 6),
                "critical_path_s": round(self.critical_path_s, 3),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, for run records (``RunRecord.plan``)."""
        out = self.to_json()
        out["steps"] = [d.to_dict() for d in self.decisions.values()]
        return out
