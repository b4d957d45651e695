"""Open the store a process works with: one small bundle of journal, artifacts, cache and state.

``open_store(settings)`` is what the CLI and the runner call: SQLite (WAL) under
``settings.home`` by default, any SQLAlchemy URL by ``PODIUM_DATABASE_URL``, artifacts on disk
or at ``PODIUM_ARTIFACT_URL``. ``memory_store()`` gives tests and benches the same bundle in
memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from podium.settings import Settings
from podium.store.base import ArtifactStore, CacheIndex, Journal, StateStore


@dataclass(frozen=True)
class Store:
    """Everything Podium remembers, as the four narrow interfaces of :mod:`podium.store.base`.

    Attributes:
        journal: runs, steps and attempts (the ledger).
        artifacts: content-addressed artifacts with metadata and lineage.
        cache: cache key -> outputs.
        state: circuit breakers.
    """

    journal: Journal
    artifacts: ArtifactStore
    cache: CacheIndex
    state: StateStore
    _close: Callable[[], None] = field(default=lambda: None, repr=False)

    def close(self) -> None:
        """Release connections and temporary files."""
        self._close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def memory_store() -> Store:
    """A fresh in-memory store (artifacts in a temporary directory removed on close)."""
    from podium.store.memory import (
        InMemoryArtifactStore,
        InMemoryCache,
        InMemoryJournal,
        InMemoryState,
    )

    artifacts = InMemoryArtifactStore()
    return Store(
        journal=InMemoryJournal(),
        artifacts=artifacts,
        cache=InMemoryCache(artifacts),
        state=InMemoryState(),
        _close=artifacts.close,
    )


def open_store(settings: Settings, *, fsync: bool = True) -> Store:
    """The store named by ``settings``: SQL journal/cache/state and file artifacts.

    Args:
        settings: ``db_url`` picks the database, ``artifacts_root`` where bytes live.
        fsync: make artifact writes durable against power loss (journal writes always survive
            the process being killed; see docs/store.md).
    """
    from podium.store.sql import open_sql_store

    return open_sql_store(settings, fsync=fsync)
