"""Plain records the store keeps and hands back. Frozen data; JSON-ready through ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RunStatus = str  # "pending" | "running" | "succeeded" | "failed" | "cancelled" | "interrupted"
StepStatus = str  # "pending" | "running" | "succeeded" | "failed" | "skipped" | "cancelled"
AttemptStatus = str  # "submitted" | "running" | "succeeded" | "failed" | "cancelled" | "cached"


@dataclass(frozen=True)
class ArtifactRecord:
    """A stored artifact: content hash, type, media metadata and lineage.

    Attributes:
        sha256: content hash (the artifact's identity).
        type: artifact type (``image``, ``video`` ...).
        ext: file extension without dot.
        size: bytes.
        metadata: media metadata (width, height, duration_s, fps, sample_rate, loudness ...).
        lineage: what made it: ``{run_id, step, model, version, inputs: [sha...], seed,
            params, cache_key}``.
        created_at: unix seconds.
    """

    sha256: str
    type: str
    ext: str
    size: int
    metadata: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class RunRecord:
    """One run of a pipeline."""

    run_id: str
    pipeline: str
    spec_path: str | None
    spec_hash: str
    status: RunStatus
    created_at: float
    updated_at: float
    out_dir: str | None = None
    policy: str | None = None
    budget_usd: float | None = None
    cost_usd: float = 0.0
    wall_s: float | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class StepRecord:
    """One unit of work of a run: a step, or one variant / foreach item of a step.

    ``key`` is ``step`` or ``step[i]`` for the i-th variant or item.
    """

    run_id: str
    key: str
    step_id: str
    status: StepStatus
    model: str | None = None
    cache_key: str | None = None
    outputs: tuple[str, ...] = ()
    cost_usd: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    error_code: str | None = None
    error: str | None = None
    decision: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class AttemptRecord:
    """One call of one model for one step: the ledger's row.

    ``request_id`` and ``state`` are written when the provider accepts the attempt, before the
    runner waits, so a crash resumes by polling, never by paying twice.
    """

    attempt_id: str
    run_id: str
    step_key: str
    model: str
    provider: str
    idempotency_key: str
    status: AttemptStatus
    started_at: float
    finished_at: float | None = None
    request_id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    cost_usd: float = 0.0
    reserved_usd: float = 0.0
    latency_s: float | None = None
    error_code: str | None = None
    error: str | None = None
    cache_hit: bool = False
    hedge: bool = False
    outputs: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class ObservedStats:
    """Figures read back from the ledger for one model (or provider)."""

    model: str
    samples: int
    latency_p50_s: float | None
    latency_p95_s: float | None
    error_rate: float | None
    mean_cost_usd: float | None = None


@dataclass(frozen=True)
class BreakerState:
    """Persisted state of one circuit breaker (``key`` is a model id or ``provider:NAME``)."""

    key: str
    state: str  # "closed" | "open" | "half_open"
    consecutive_failures: int = 0
    opened_until: float | None = None
    recent: tuple[bool, ...] = ()  # last outcomes, True = success
