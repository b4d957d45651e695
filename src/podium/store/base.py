"""Narrow store interfaces. Each has an in-memory and a SQLite (SQLAlchemy) implementation.

- :class:`ArtifactStore`: content-addressed files with metadata and lineage.
- :class:`Journal`: runs, their steps and attempts; every state change is written before it is
  acted on. Attempts are the ledger of calls (cost, latency, outcome, cache hit).
- :class:`CacheIndex`: cache key -> output artifact hashes.
- :class:`StateStore`: circuit-breaker state and budget reservations.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from podium.store.records import (
    ArtifactRecord,
    AttemptRecord,
    BreakerState,
    ObservedStats,
    RunRecord,
    StepRecord,
)


class ArtifactStore(abc.ABC):
    """Content-addressed artifacts: stored once by sha256."""

    @abc.abstractmethod
    def put(
        self,
        path: Path,
        type: str,
        *,
        metadata: dict[str, Any] | None = None,
        lineage: dict[str, Any] | None = None,
        hold: bool = False,
        take: bool = False,
        later: bool = False,
    ) -> ArtifactRecord:
        """Store the file's bytes (once) and its record; return the record.

        ``hold``: the record may be committed with the journal's next write instead of in a
        transaction of its own (readers in this process see it at once). ``take``: the file
        is the store's from now on and may be moved into place rather than copied.
        ``later``: the bytes may be readable at :meth:`path_of` before they are durable; the
        record is saved (held) only by :meth:`settle`, which the caller must call.
        """

    def settle(self, records: Sequence[ArtifactRecord]) -> None:
        """Make records put with ``later`` durable and hold them (a store that ignores
        ``later`` has nothing left to do)."""
        del records

    @abc.abstractmethod
    def get(self, sha256: str) -> ArtifactRecord:
        """The record of an artifact (a prefix of 8+ hex digits is enough). KeyError if none."""

    @abc.abstractmethod
    def path(self, sha256: str) -> Path:
        """A local file holding the artifact's bytes (materialised from remote storage)."""

    def path_of(self, record: ArtifactRecord) -> Path:
        """A local file holding ``record``'s bytes (a store may skip the lookup)."""
        return self.path(record.sha256)

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool:
        """Whether the bytes are present and match their hash."""

    @abc.abstractmethod
    def all(self) -> Sequence[ArtifactRecord]:
        """Every artifact record."""

    @abc.abstractmethod
    def delete(self, sha256: str) -> int:
        """Remove an artifact's bytes and record; return bytes freed."""


class Journal(abc.ABC):
    """Runs, steps and attempts, written before they are acted on."""

    @abc.abstractmethod
    def create_run(self, run: RunRecord) -> None:
        """Record a new run."""

    @abc.abstractmethod
    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change fields of a run (status, cost_usd, wall_s, error, out_dir, plan)."""

    @abc.abstractmethod
    def get_run(self, run_id: str, *, plan: bool = True) -> RunRecord:
        """A run (a unique prefix of its id is enough). KeyError if none.

        ``plan=False``: without its plan document (``plan == {}``), which can be the larger
        part of the record and is then not read.
        """

    def run_status(self, run_id: str) -> str:
        """A run's status, its plan document unread (the runner polls it for `podium
        cancel`). KeyError if none."""
        return self.get_run(run_id, plan=False).status

    @abc.abstractmethod
    def list_runs(self, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Runs, newest first, without their plan documents (``plan == {}``: see
        :meth:`get_run`)."""

    @abc.abstractmethod
    def put_step(self, step: StepRecord) -> None:
        """Insert or replace a step record (keyed by run_id and key)."""

    @abc.abstractmethod
    def steps(self, run_id: str) -> list[StepRecord]:
        """The run's step records, in the order they were first written."""

    @abc.abstractmethod
    def put_attempt(self, attempt: AttemptRecord) -> None:
        """Insert or replace an attempt record (keyed by attempt_id)."""

    @abc.abstractmethod
    def attempts(
        self, run_id: str | None = None, step_key: str | None = None
    ) -> list[AttemptRecord]:
        """Attempts of a run (or all), oldest first."""

    @abc.abstractmethod
    def attempt_by_key(self, idempotency_key: str) -> AttemptRecord | None:
        """The attempt with this idempotency key, if any."""

    @abc.abstractmethod
    def observed(self, model: str, window: int = 200) -> ObservedStats:
        """Latency and error figures of the last ``window`` finished, non-cached attempts."""

    @abc.abstractmethod
    def spent(self, since: float, pipeline: str | None = None) -> float:
        """USD spent (settled attempts plus open reservations) since a unix time."""

    def note_step(self, step: StepRecord) -> None:
        """Write a step record with the journal's next write, in the same transaction.

        For a state nothing acts on by itself (a step ``running``, an attempt that succeeded
        but whose step is not written yet): it becomes durable no later than the next state
        change that is acted on, and costs no commit of its own. Reads see it at once.
        Implementations without transactions write it now.
        """
        self.put_step(step)

    def note_attempt(self, attempt: AttemptRecord) -> None:
        """Write an attempt record with the journal's next write (see :meth:`note_step`)."""
        self.put_attempt(attempt)

    def note_plan(self, run_id: str, plan: dict[str, Any]) -> None:
        """Set a run's plan document with the journal's next write (see :meth:`note_step`)."""
        self.update_run(run_id, plan=plan)

    def flush(self) -> None:
        """Write what :meth:`note_step` and :meth:`note_attempt` hold back, now."""
        return None  # this default writes at once: nothing is ever held back

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the journal's exclusive section: no one else holding it, in any process sharing
        this journal, runs meanwhile. For a check that reads the journal and then writes on
        what it read (a daily budget's reservation). This default serialises this process."""
        with _EXCLUSIVE:
            yield


_EXCLUSIVE = threading.Lock()


class CacheIndex(abc.ABC):
    """Cache key -> the artifact hashes an attempt produced."""

    @abc.abstractmethod
    def get(self, key: str) -> tuple[str, ...] | None:
        """The outputs stored under ``key``."""

    @abc.abstractmethod
    def put(self, key: str, outputs: Sequence[str], model: str) -> None:
        """Remember the outputs of ``key``."""

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Entries, hits, bytes."""

    @abc.abstractmethod
    def entries(self) -> list[tuple[str, tuple[str, ...], float]]:
        """(key, outputs, last_used) of every entry."""

    @abc.abstractmethod
    def remove(self, key: str) -> None:
        """Forget a key."""


class StateStore(abc.ABC):
    """Circuit breakers and atomic budget reservations."""

    @abc.abstractmethod
    def breaker(self, key: str) -> BreakerState:
        """The breaker's state (closed if never seen)."""

    @abc.abstractmethod
    def put_breaker(self, state: BreakerState) -> None:
        """Persist a breaker's state."""

    @abc.abstractmethod
    def breakers(self) -> list[BreakerState]:
        """Every known breaker."""

    def take_probe(self, key: str, now: float, lease_until: float) -> bool:
        """Take a breaker's half-open probe, if it is due: the breaker is open past its time, or
        half-open with its last probe's lease run out. It is then stored half-open until
        ``lease_until``, so no other process probes meanwhile. Implementations shared between
        processes make the check and the write one atomic step; this default is for one."""
        state = self.breaker(key)
        if not probe_due(state, now):
            return False
        self.put_breaker(dataclasses.replace(state, state="half_open", opened_until=lease_until))
        return True


def probe_due(state: BreakerState, now: float) -> bool:
    """Whether a breaker lets a probe through now (see :meth:`StateStore.take_probe`)."""
    if state.state not in ("open", "half_open"):
        return False
    return state.opened_until is None or state.opened_until <= now
