"""Report fixtures: every test runs against the in-memory and the SQLite store, and
against PostgreSQL too when ``PODIUM_TEST_DATABASE_URL`` names a database it may wipe."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from podium.settings import Settings
from podium.store.open import Store, memory_store, open_store

# read at import: the autouse podium_home fixture clears PODIUM_* variables for each test
POSTGRES_URL = os.environ.get("PODIUM_TEST_DATABASE_URL")
KINDS = ["memory", "sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def _wipe(url: str) -> None:
    from sqlalchemy import create_engine

    from podium.store.schema import metadata

    engine = create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Store]:
    """A fresh store of each implementation."""
    if request.param == "memory":
        bundle = memory_store()
    elif request.param == "postgresql":
        assert POSTGRES_URL is not None
        _wipe(POSTGRES_URL)
        bundle = open_store(settings.model_copy(update={"database_url": POSTGRES_URL}))
    else:
        bundle = open_store(settings)
    try:
        yield bundle
    finally:
        bundle.close()
