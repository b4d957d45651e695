"""Held writes: records nothing acts on commit with the next write, in its transaction.

And an attempt's output taken into the store (moved, not copied) keeps its bytes and hash.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from podium.settings import Settings
from podium.store.open import open_store
from tests.store.records import attempt, run, step


def _other(settings: Settings) -> list[str]:
    """Step keys another process-like connection sees committed."""
    other = open_store(settings)
    try:
        return [s.key for s in other.journal.steps("r1")]
    finally:
        other.close()


def test_a_held_step_commits_with_the_next_write(settings: Settings) -> None:
    store = open_store(settings)
    try:
        store.journal.create_run(run("r1"))
        store.journal.note_step(step("r1", "a", status="running"))
        assert _other(settings) == []  # nothing committed yet
        assert [s.status for s in store.journal.steps("r1")] == ["running"]  # reads see it
        store.journal.note_step(step("r1", "b", status="running"))
        store.journal.put_attempt(attempt("att-a", "r1", step_key="a"))
        assert _other(settings) == ["a", "b"]
    finally:
        store.close()


def test_the_last_held_state_of_a_record_wins(settings: Settings) -> None:
    store = open_store(settings)
    try:
        store.journal.create_run(run("r1"))
        rec = attempt("att-a", "r1", step_key="a", status="submitted")
        store.journal.note_attempt(rec)
        store.journal.note_attempt(replace(rec, status="succeeded"))
        store.journal.put_step(step("r1", "a"))
    finally:
        store.close()
    again = open_store(settings)
    try:
        assert [a.status for a in again.journal.attempts("r1")] == ["succeeded"]
    finally:
        again.close()


KILLED = """
import os, signal, sys, time
from dataclasses import replace
from pathlib import Path
from podium.settings import Settings
from podium.store.open import open_store
from podium.store.records import RunRecord, StepRecord

s = open_store(Settings(home=Path(sys.argv[1])))
now = time.time()
s.journal.create_run(RunRecord("r1", "p", None, "h", "running", now, now))
s.journal.note_step(StepRecord("r1", "held", "held", "running", started_at=now))
s.journal.put_step(StepRecord("r1", "done", "done", "succeeded", started_at=now))
s.journal.note_step(StepRecord("r1", "lost", "lost", "running", started_at=now))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_kill_keeps_what_rode_with_a_write_and_nothing_half(settings: Settings) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", KILLED, str(settings.home)], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL
    assert sorted(_other(settings)) == ["done", "held"]


def test_an_output_taken_into_the_store_is_moved_whole(settings: Settings, tmp_path: Path) -> None:
    store = open_store(settings)
    src = tmp_path / "work" / "out.txt"
    src.parent.mkdir()
    payload = b"taken, not copied\n" * 1000
    src.write_bytes(payload)
    try:
        rec = store.artifacts.put(src, "text", lineage={"step": "a"}, hold=True, take=True)
        assert not src.exists()
        stored = store.artifacts.path_of(rec)
        assert stored.read_bytes() == payload
        assert rec.sha256 == hashlib.sha256(payload).hexdigest()
        assert store.artifacts.exists(rec.sha256)  # a held record is found at once
        assert not (stored.parent.parent / ".tmp").exists() or not os.listdir(
            stored.parent.parent / ".tmp"
        )
    finally:
        store.close()  # commits what is held
    again = open_store(settings)
    try:
        assert again.artifacts.get(rec.sha256).lineage == {"step": "a"}
    finally:
        again.close()
