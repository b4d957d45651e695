"""The schema and the upserts compile for PostgreSQL too (the same code serves both by URL)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from podium.errors import InvalidInput
from podium.store import schema
from podium.store.schema import Database, build_upsert

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
