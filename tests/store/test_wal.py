"""SQLite's write-ahead log is checkpointed on a thread of the store's own, never in a commit."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from podium.store.records import RunRecord
from podium.store.schema import Database
from podium.store.sql import SqlJournal


def _run(run_id: str) -> RunRecord:
    return RunRecord(
        run_id=run_id, pipeline="p", spec_path=None, spec_hash="h", status="running",
        created_at=1.0, updated_at=1.0, out_dir="out", policy="balanced", budget_usd=None,
        inputs={}, plan={},
    )  # fmt: skip


def _runs_in_file_alone(db: Path, tmp: Path) -> list[str]:
    """Run ids the database file holds without its log (what checkpoints have copied)."""
    alone = tmp / "alone.db"
    shutil.copyfile(db, alone)
    conn = sqlite3.connect(alone)
    try:
        return [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY run_id")]
    finally:
        conn.close()


def test_commits_leave_the_log_to_the_checkpointer_thread(tmp_path: Path) -> None:
    path = tmp_path / "podium.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert db.checkpointer is not None
        assert db.read(text("PRAGMA wal_autocheckpoint"))[0][0] == 0  # never inside a commit
        db.checkpointer.every = 4
        db.checkpointer.checkpoint()  # the tables into the file
        journal = SqlJournal(db)
        for i in range(3):
            journal.create_run(_run(f"r{i}"))
        # no commit checkpointed by itself: the rows are only in the log so far
        assert _runs_in_file_alone(path, tmp_path) == []
        journal.create_run(_run("r3"))  # the fourth commit starts a checkpoint on a thread
        db.checkpointer.close()
        assert _runs_in_file_alone(path, tmp_path) == ["r0", "r1", "r2", "r3"]
    finally:
        db.close()


def test_the_plan_document_reads_back_as_written(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'podium.db'}")
    try:
        journal = SqlJournal(db)
        journal.create_run(_run("r1"))
        plan = {"decisions": {"a": {"chosen": "fake/text-a@1", "cost": 0.5}}, "seed": None}
        journal.note_plan("r1", plan)  # the plain-SQL update, held for the next commit
        journal.flush()
        assert journal.get_run("r1").plan == plan
    finally:
        db.close()
