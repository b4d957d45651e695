"""Dependents start on a parent's verified outputs, but journal nothing before its records.

Runs on the SQLite store with fsynced artifacts, where attempt rows are numbered in the order
they first commit, and with a slow disk injected into the store's ``settle``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from podium.settings import Settings
from podium.spec.loader import load_pipeline_text
from podium.store.open import Store
from podium.store.records import ArtifactRecord
from podium.store.sql import SqlJournal, open_sql_store
from podium.testing.workloads import Bench, fake_runner


@dataclass
class OnSql:
    """A fake-provider runner over the SQLite store."""

    settings: Settings
    store: Store
    bench: Bench


@pytest.fixture
async def on_sql(settings: Settings) -> AsyncIterator[OnSql]:
    """A fake-provider runner over the SQLite store with fsynced artifacts; closed after."""
    settings = settings.model_copy(update={"enable_fake": True})
    store = open_sql_store(settings)
    bench = fake_runner(settings, store)
    try:
        yield OnSql(settings, store, bench)
    finally:
        await bench.close()
        store.close()


SPEC = """
name: durable
steps:
  - {id: parent, task: text, prompt: base, cache: false, route: {pin: fake/text-a}}
  - {id: free, task: text, prompt: "${steps.parent.output} free", cache: false,
     route: {pin: fake/text-a}}
  - {id: paid, task: text, prompt: "${steps.parent.output} paid", cache: false,
     params: {cost_usd: 0.01}, route: {pin: fake/text-a}}
"""


async def test_dependents_start_early_but_journal_after_their_parent(
    on_sql: OnSql, tmp_path: Path
) -> None:
    store, bench = on_sql.store, on_sql.bench
    synced: list[float] = []
    settle = store.artifacts.settle

    def slow_disk(records: Sequence[ArtifactRecord]) -> None:
        time.sleep(0.2)  # the parent's files take a while to become durable
        settle(records)
        synced.append(time.time())

    store.artifacts.settle = slow_disk  # type: ignore[method-assign]
    assert isinstance(store.journal, SqlJournal)
    db = store.journal.db
    # every attempt row written, in the order the database applies the writes
    db.write(text("CREATE TABLE log (seq INTEGER PRIMARY KEY, key TEXT, status TEXT)"), {})
    for event in ("INSERT", "UPDATE"):
        db.write(
            text(
                f"CREATE TRIGGER log_{event} AFTER {event} ON attempts BEGIN "
                "INSERT INTO log (key, status) VALUES (new.step_key, new.status); END"
            ),
            {},
        )
    outcome = await bench.runner.run(load_pipeline_text(SPEC, "d.yaml"), out_dir=tmp_path)
    assert outcome.status == "succeeded"
    assert (tmp_path / "free.txt").read_text().strip() == "base free"
    attempts = {a.step_key: a for a in store.journal.attempts(outcome.run_id)}
    assert {a.status for a in attempts.values()} == {"succeeded"}
    # the free dependent ran while its parent's output was still being made durable ...
    assert attempts["free"].started_at < synced[0]
    # ... but the paid one was journaled (before its call) only after the parent's success
    log = [(k, st) for k, st in db.read(text("SELECT key, status FROM log ORDER BY seq"))]
    assert log.index(("parent", "succeeded")) < log.index(("paid", "submitted"))
    assert log.index(("parent", "succeeded")) < log.index(("free", "succeeded"))
    steps = {s.key: s.status for s in store.journal.steps(outcome.run_id)}
    assert steps == {"parent": "succeeded", "free": "succeeded", "paid": "succeeded"}


async def test_scratch_directories_are_reused_and_left_empty(on_sql: OnSql, tmp_path: Path) -> None:
    bench = on_sql.bench
    spec = "name: s\nsteps:\n" + "".join(
        f"  - {{id: s{i}, task: text, prompt: p{i}, cache: false, route: {{pin: fake/text-a}}}}\n"
        for i in range(6)
    )
    work = on_sql.settings.home / "work"
    counts = []
    for n in range(3):
        outcome = await bench.runner.run(load_pipeline_text(spec), out_dir=tmp_path / str(n))
        assert outcome.status == "succeeded"
        assert not [p for p in work.rglob("*") if p.is_file()]  # outputs were moved out
        counts.append(sum(1 for p in work.rglob("*") if p.is_dir()))
    assert counts[0] == counts[1] == counts[2]  # later runs made no new directories
