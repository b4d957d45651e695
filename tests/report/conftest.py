"""Report fixtures: the store contract's ``store`` fixture (memory, SQLite, and PostgreSQL when
``PODIUM_TEST_DATABASE_URL`` is set)."""

from __future__ import annotations

from tests.store.conftest import store

__all__ = ["store"]
