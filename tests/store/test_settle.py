"""Outputs placed at once and made durable later (``put(later=True)`` then ``settle``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from podium.settings import Settings
from podium.store.open import Store, open_store


@pytest.fixture
def sql_store(settings: Settings) -> Store:
    """The SQLite store with fsynced file artifacts (the runner's default)."""
    return open_store(settings)


def _scratch(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "scratch" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_later_bytes_are_readable_at_once_and_recorded_only_when_settled(
    sql_store: Store, tmp_path: Path
) -> None:
    data = b"a caption for the hero shot\n"
    src = _scratch(tmp_path, "out-0.txt", data)
    rec = sql_store.artifacts.put(src, "text", take=True, later=True, lineage={"step": "s"})
    placed = sql_store.artifacts.path_of(rec)
    assert placed.read_bytes() == data and not src.exists()  # moved, readable in place
    with pytest.raises(KeyError):
        sql_store.artifacts.get(rec.sha256)  # nothing names it before it is durable
    sql_store.artifacts.settle([rec])
    sql_store.journal.flush()
    assert sql_store.artifacts.get(rec.sha256).lineage == {"step": "s"}
    assert sql_store.artifacts.exists(rec.sha256)
    assert rec.sha256 == hashlib.sha256(data).hexdigest()


def test_a_copy_already_stored_is_kept_and_a_damaged_one_replaced(
    sql_store: Store, tmp_path: Path
) -> None:
    data = b'{"score": 0.93}'
    (tmp_path / "a.json").write_bytes(data)
    first = sql_store.artifacts.put(tmp_path / "a.json", "json")  # copied in, durable
    stored = sql_store.artifacts.path_of(first)
    inode = stored.stat().st_ino
    again = sql_store.artifacts.put(
        _scratch(tmp_path, "b.json", data), "json", take=True, later=True
    )
    sql_store.artifacts.settle([again])
    # the durable copy was not swapped for bytes that were not yet on disk
    assert stored.stat().st_ino == inode and stored.read_bytes() == data
    stored.write_bytes(b'{"score": 0.00}')  # damaged on disk
    healed = sql_store.artifacts.put(
        _scratch(tmp_path, "c.json", data), "json", take=True, later=True
    )
    sql_store.artifacts.settle([healed])
    assert stored.read_bytes() == data and sql_store.artifacts.exists(first.sha256)
    assert not list((tmp_path / "scratch").iterdir())  # every scratch file was taken
