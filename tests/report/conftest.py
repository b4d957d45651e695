"""Report fixtures: every test runs against the in-memory and the SQLite store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.settings import Settings
from podium.store.open import Store, memory_store, open_store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Store]:
    """A fresh store of each implementation."""
    bundle = memory_store() if request.param == "memory" else open_store(settings)
    try:
        yield bundle
    finally:
        bundle.close()
