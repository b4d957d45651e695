"""The schema and the upserts compile for PostgreSQL too (the same code serves both by URL)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from podium.errors import InvalidInput
from podium.settings import Settings
from podium.store import schema
from podium.store.schema import Database, build_upsert
from tests.store.conftest import POSTGRES_URL

UPSERTS = [
    (schema.steps, ("run_id", "key"), ()),
    (schema.attempts, ("attempt_id",), ()),
    (schema.artifacts, ("sha256",), ()),
    (schema.cache, ("key",), ("created_at", "hits")),
    (schema.breakers, ("key",), ()),
]


@pytest.mark.parametrize("dialect", [postgresql.dialect(), sqlite.dialect()])
def test_schema_compiles(dialect: object) -> None:
    for table in schema.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))  # type: ignore[arg-type]
        assert f"CREATE TABLE {table.name}" in ddl
        for index in table.indexes:
            str(CreateIndex(index).compile(dialect=dialect))  # type: ignore[arg-type]


@pytest.mark.parametrize(("table", "keys", "keep"), UPSERTS)
def test_upserts_compile_for_postgresql(table: object, keys: tuple, keep: tuple) -> None:
    stmt = build_upsert("postgresql", table, keys, keep)  # type: ignore[arg-type]
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET" in sql
    for col in (*keys, *keep):
        assert f"{col} = excluded.{col}" not in sql  # keys and kept columns never overwritten


def test_other_databases_are_refused_in_one_line() -> None:
    with pytest.raises(InvalidInput, match="SQLite or PostgreSQL, not mysql") as info:
        Database("mysql://user:secret@db/podium")
    assert "secret" not in info.value.one_line()


def test_every_record_field_has_a_column() -> None:
    """A field added to a record needs its column here (and is then added to old stores)."""
    import dataclasses

    from podium.store import records

    pairs = [
        (records.RunRecord, schema.runs, {}),
        (records.StepRecord, schema.steps, {}),
        (records.AttemptRecord, schema.attempts, {"metadata": "meta"}),
        (records.ArtifactRecord, schema.artifacts, {"metadata": "meta"}),
        (records.BreakerState, schema.breakers, {}),
    ]
    for record, table, renamed in pairs:
        for f in dataclasses.fields(record):
            assert renamed.get(f.name, f.name) in table.c, f"{record.__name__}.{f.name}"


def test_a_store_made_by_an_older_version_gains_new_columns(tmp_path: Path) -> None:
    import sqlite3

    from podium.store.records import BreakerState
    from podium.store.sql import SqlState

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # the breakers table before `recent` existed
        conn.execute(
            "CREATE TABLE breakers (key VARCHAR(300) PRIMARY KEY, state VARCHAR(20) NOT NULL,"
            " consecutive_failures INTEGER NOT NULL, opened_until FLOAT)"
        )
        conn.execute("INSERT INTO breakers VALUES ('fal/flux@1', 'open', 3, 99.0)")
    db = Database(f"sqlite:///{path}")
    try:
        state = SqlState(db)
        assert state.breaker("fal/flux@1") == BreakerState("fal/flux@1", "open", 3, 99.0, ())
        state.put_breaker(BreakerState("fal/flux@1", "closed", 0, None, (True, False)))
        assert state.breaker("fal/flux@1").recent == (True, False)
    finally:
        db.close()


if POSTGRES_URL:  # defined only where a PostgreSQL server is at hand (no skip in CI)

    def test_a_dropped_postgresql_connection_is_reopened(settings: Settings) -> None:
        from sqlalchemy import text

        from podium.store.open import open_store
        from podium.store.sql import SqlJournal
        from tests.store.records import run

        url = POSTGRES_URL
        assert url is not None
        store = open_store(settings.model_copy(update={"database_url": url}))
        try:
            journal = store.journal
            assert isinstance(journal, SqlJournal)
            journal.create_run(run(f"drop-{time.time_ns()}"))
            pid = journal.db.read(text("SELECT pg_backend_pid()"))[0][0]
            killer = Database(url)
            killer.read(text(f"SELECT pg_terminate_backend({int(pid)})"))
            killer.close()
            assert journal.list_runs()  # the server dropped us; the store reconnects
        finally:
            store.close()
