"""``collect_garbage``: what recent runs need stays, the rest goes."""

from __future__ import annotations

import time
from pathlib import Path

from podium.store.cache import collect_garbage
from podium.store.open import Store
from podium.store.records import ArtifactRecord
from tests.store.records import run, step

DAY = 86_400.0


def _put(store: Store, tmp_path: Path, name: str, size: int, inputs: list[str]) -> ArtifactRecord:
    path = tmp_path / f"{name}.bin"
    path.write_bytes(name.encode() * size)
    return store.artifacts.put(path, "json", lineage={"step": name, "inputs": inputs})


def _populate(store: Store, tmp_path: Path) -> dict[str, ArtifactRecord]:
    now = time.time()
    old_img = _put(store, tmp_path, "oldimg", 100, [])
    ref = _put(store, tmp_path, "reference", 100, [])  # an input of the new run's image
    new_img = _put(store, tmp_path, "newimg", 100, [ref.sha256])
    shot = _put(store, tmp_path, "shot", 100, [new_img.sha256])
    wip = _put(store, tmp_path, "wip", 100, [])
    paused = _put(store, tmp_path, "paused", 100, [])
    store.journal.create_run(run("old", created_at=now - 30 * DAY, status="succeeded"))
    store.journal.put_step(step("old", "hero", outputs=(old_img.sha256,)))
    store.journal.create_run(run("new", created_at=now - DAY, status="succeeded"))
    store.journal.put_step(step("new", "shots", outputs=(shot.sha256,)))
    # an unfinished run keeps its artifacts whatever its age
    store.journal.create_run(run("stuck", created_at=now - 60 * DAY, status="interrupted"))
    store.journal.put_step(step("stuck", "wip", outputs=(wip.sha256,)))
    # so does a cancelled one: `podium resume` continues it
    store.journal.create_run(run("held", created_at=now - 60 * DAY, status="cancelled"))
    store.journal.put_step(step("held", "half", outputs=(paused.sha256,)))
    store.cache.put("k-old", [old_img.sha256], "fake/image@1")
    store.cache.put("k-new", [shot.sha256], "fake/video@1")
    store.cache.put("k-gone", ["f" * 64], "fake/video@1")  # its artifact was never stored
    return {"old": old_img, "ref": ref, "new": new_img, "shot": shot, "wip": wip, "paused": paused}


def test_older_than_keeps_recent_runs_and_their_ancestors(store: Store, tmp_path: Path) -> None:
    arts = _populate(store, tmp_path)
    dry = collect_garbage(
        store.journal, store.artifacts, store.cache, older_than_days=7, dry_run=True
    )
    assert (dry.artifacts_removed, dry.entries_removed) == (1, 2)
    assert len(store.artifacts.all()) == 6  # a dry run changes nothing

    done = collect_garbage(store.journal, store.artifacts, store.cache, older_than_days=7)
    assert done.artifacts_removed == 1 and done.bytes_freed == arts["old"].size
    left = {r.sha256 for r in store.artifacts.all()}
    assert left == {arts[k].sha256 for k in ("ref", "new", "shot", "wip", "paused")}
    assert not store.artifacts.exists(arts["old"].sha256)
    assert [e[0] for e in store.cache.entries()] == ["k-new"]
    assert done.bytes_left == sum(r.size for r in store.artifacts.all())


def test_max_bytes_evicts_least_recently_used_first(store: Store, tmp_path: Path) -> None:
    arts = _populate(store, tmp_path)
    total = sum(r.size for r in store.artifacts.all())
    budget = total - arts["old"].size
    done = collect_garbage(store.journal, store.artifacts, store.cache, max_bytes=budget)
    assert done.bytes_left <= budget
    # the oldest finished run's image goes first; the interrupted run's never does
    assert not store.artifacts.exists(arts["old"].sha256)
    assert store.artifacts.exists(arts["wip"].sha256)
    tiny = collect_garbage(store.journal, store.artifacts, store.cache, max_bytes=0)
    assert {r.sha256 for r in store.artifacts.all()} == {arts["wip"].sha256, arts["paused"].sha256}
    assert tiny.bytes_left == arts["wip"].size + arts["paused"].size


def test_artifacts_of_a_run_in_flight_are_never_evicted(store: Store, tmp_path: Path) -> None:
    store.journal.create_run(run("live", created_at=time.time() - 5, status="running"))
    # stored by the live run, not yet named by any step record
    fresh = _put(store, tmp_path, "fresh", 100, [])
    done = collect_garbage(store.journal, store.artifacts, store.cache, max_bytes=0)
    assert done.artifacts_removed == 0 and store.artifacts.exists(fresh.sha256)
