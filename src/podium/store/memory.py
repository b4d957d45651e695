"""In-memory store: the reference implementation of the store interfaces, for tests and benches.

Everything lives in dicts guarded by one lock per object, so threads may share them; artifacts'
bytes live in a private temporary directory (:class:`InMemoryArtifactStore`).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from typing import Any

from podium.store.artifacts import InMemoryArtifactStore
from podium.store.base import ArtifactStore, CacheIndex, Journal, StateStore
from podium.store.records import (
    AttemptRecord,
    BreakerState,
    ObservedStats,
    RunRecord,
    StepRecord,
)
from podium.store.stats import charged, counts_for_stats, model_matches, observed_from, sample

__all__ = [
    "InMemoryArtifactStore",
    "InMemoryCache",
    "InMemoryJournal",
    "InMemoryState",
]

RUN_FIELDS = frozenset(f.name for f in dataclasses.fields(RunRecord)) - {"run_id"}


def find_run_id(run_ids: Sequence[str], wanted: str) -> str:
    """The one id in ``run_ids`` equal to or starting with ``wanted``; KeyError otherwise."""
    if wanted in run_ids:
        return wanted
    matches = [r for r in run_ids if r.startswith(wanted)] if wanted else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise KeyError(f"run id '{wanted}' is ambiguous ({len(matches)} runs match)")
    raise KeyError(f"no run '{wanted}'")


def check_run_fields(fields: dict[str, Any]) -> None:
    """Refuse fields a run record does not have (a typo would otherwise be lost silently)."""
    unknown = set(fields) - RUN_FIELDS
    if unknown:
        raise TypeError(f"unknown run field(s): {', '.join(sorted(unknown))}")


class InMemoryJournal(Journal):
    """Runs, steps and attempts in dicts (insertion-ordered, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._steps: dict[str, dict[str, StepRecord]] = {}
        self._attempts: dict[str, AttemptRecord] = {}
        self._by_key: dict[str, str] = {}

    def create_run(self, run: RunRecord) -> None:
        """Record a new run."""
        with self._lock:
            if run.run_id in self._runs:
                raise ValueError(f"run '{run.run_id}' already exists")
            self._runs[run.run_id] = run
            self._steps[run.run_id] = {}

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change fields of a run (status, cost_usd, wall_s, error, out_dir, plan)."""
        check_run_fields(fields)
        fields.setdefault("updated_at", time.time())
        with self._lock:
            run_id = find_run_id(list(self._runs), run_id)
            self._runs[run_id] = dataclasses.replace(self._runs[run_id], **fields)

    def get_run(self, run_id: str, *, plan: bool = True) -> RunRecord:
        """A run (a unique prefix of its id is enough). KeyError if none."""
        with self._lock:
            run = self._runs[find_run_id(list(self._runs), run_id)]
        return run if plan else dataclasses.replace(run, plan={})

    def list_runs(self, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Runs, newest first, without their plan documents."""
        with self._lock:
            runs = [r for r in self._runs.values() if pipeline is None or r.pipeline == pipeline]
        runs.sort(key=lambda r: r.created_at, reverse=True)
        return [dataclasses.replace(r, plan={}) for r in runs[:limit]]

    def put_step(self, step: StepRecord) -> None:
        """Insert or replace a step record (keyed by run_id and key)."""
        with self._lock:
            self._steps.setdefault(step.run_id, {})[step.key] = step

    def steps(self, run_id: str) -> list[StepRecord]:
        """The run's step records, in the order they were first written."""
        with self._lock:
            return list(self._steps.get(run_id, {}).values())

    def put_attempt(self, attempt: AttemptRecord) -> None:
        """Insert or replace an attempt record (keyed by attempt_id)."""
        with self._lock:
            self._attempts[attempt.attempt_id] = attempt
            self._by_key[attempt.idempotency_key] = attempt.attempt_id

    def attempts(
        self, run_id: str | None = None, step_key: str | None = None
    ) -> list[AttemptRecord]:
        """Attempts of a run (or all), oldest first."""
        with self._lock:
            rows = [
                a
                for a in self._attempts.values()
                if (run_id is None or a.run_id == run_id)
                and (step_key is None or a.step_key == step_key)
            ]
        return sorted(rows, key=lambda a: a.started_at)

    def attempt_by_key(self, idempotency_key: str) -> AttemptRecord | None:
        """The attempt with this idempotency key, if any."""
        with self._lock:
            attempt_id = self._by_key.get(idempotency_key)
            return self._attempts.get(attempt_id) if attempt_id else None

    def observed(self, model: str, window: int = 200) -> ObservedStats:
        """Latency and error figures of the last ``window`` finished, non-cached attempts."""
        with self._lock:
            rows = [a for a in self._attempts.values() if model_matches(model, a)]
        rows = [a for a in rows if counts_for_stats(a)]
        rows.sort(key=lambda a: a.finished_at or 0.0, reverse=True)
        return observed_from(model, [sample(a) for a in rows[:window]])

    def spent(self, since: float, pipeline: str | None = None) -> float:
        """USD spent (settled attempts plus open reservations) since a unix time."""
        with self._lock:
            runs = {r.run_id for r in self._runs.values() if r.pipeline == pipeline}
            rows = [
                a
                for a in self._attempts.values()
                if a.started_at >= since and (pipeline is None or a.run_id in runs)
            ]
        return sum(charged(a) for a in rows)


@dataclasses.dataclass
class CacheEntry:
    """One cache entry with its use counters."""

    key: str
    outputs: tuple[str, ...]
    model: str
    created_at: float
    last_used: float
    hits: int = 0


class InMemoryCache(CacheIndex):
    """Cache key -> outputs in a dict.

    Args:
        artifacts: the artifact store, to report bytes in :meth:`stats`.
    """

    def __init__(self, artifacts: ArtifactStore | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, CacheEntry] = {}
        self._artifacts = artifacts

    def get(self, key: str) -> tuple[str, ...] | None:
        """The outputs stored under ``key`` (counts a hit)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            entry.hits += 1
            entry.last_used = time.time()
            return entry.outputs

    def put(self, key: str, outputs: Sequence[str], model: str) -> None:
        """Remember the outputs of ``key``."""
        now = time.time()
        with self._lock:
            self._entries[key] = CacheEntry(key, tuple(outputs), model, now, now)

    def stats(self) -> dict[str, Any]:
        """Entries, hits, bytes referenced and bytes saved by hits."""
        from podium.store.cache import summarise

        with self._lock:
            rows = [(e.outputs, e.hits) for e in self._entries.values()]
        return summarise(rows, self._artifacts)

    def entries(self) -> list[tuple[str, tuple[str, ...], float]]:
        """(key, outputs, last_used) of every entry."""
        with self._lock:
            return [(e.key, e.outputs, e.last_used) for e in self._entries.values()]

    def remove(self, key: str) -> None:
        """Forget a key."""
        with self._lock:
            self._entries.pop(key, None)


class InMemoryState(StateStore):
    """Circuit-breaker states in a dict."""

    def __init__(self) -> None:
        # re-entrant: take_probe holds it around breaker() and put_breaker()
        self._lock = threading.RLock()
        self._breakers: dict[str, BreakerState] = {}

    def breaker(self, key: str) -> BreakerState:
        """The breaker's state (closed if never seen)."""
        with self._lock:
            return self._breakers.get(key) or BreakerState(key=key, state="closed")

    def put_breaker(self, state: BreakerState) -> None:
        """Persist a breaker's state."""
        with self._lock:
            self._breakers[state.key] = state

    def breakers(self) -> list[BreakerState]:
        """Every known breaker, by key."""
        with self._lock:
            return sorted(self._breakers.values(), key=lambda b: b.key)

    def take_probe(self, key: str, now: float, lease_until: float) -> bool:
        """Take a due half-open probe (see :meth:`StateStore.take_probe`), under the lock."""
        with self._lock:
            return super().take_probe(key, now, lease_until)
