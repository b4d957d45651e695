"""bench/critical_path.py — does the runner start every step the moment its inputs are ready?

Workload: "the DAG" of issue 3 (50 text steps on the fake provider in 7 levels, widths
8-8-8-8-8-6-4, each step referencing 1–2 steps of the level before), fixed latencies drawn
uniformly from 10–50 ms per step (seed 1), default retry policy, SQLite journal and file
artifacts in a temporary PODIUM_HOME, cache off. The figure is the run's wall time over the
DAG's critical path (the slowest chain of latencies); goal ≤ 1.05. Best of 3 runs. The wall is
the run's ``wall_s`` as journaled and reported (``podium run --json``, ``podium show``): from
the call to ``run``, planning included, until every step's outputs are durable, its records
committed and its out-dir links made. Closing the run after that (its final record and
``summary.json``) is printed beside it as ``close_ms``, the median over the 3 runs. Also taken
with the store on ``/dev/shm``, where creating a file usually costs far less
(``wall_over_critical_path_in_memory_fs``; see bench/overhead.py for why).

Side by side, in the same run, the floor: the same DAG called with bare asyncio (a task per
step awaiting its parents' tasks, the same fake provider and latencies, the same output files,
no journal, store or checks), best of 3 (``bare_wall_over_critical_path``).
``podium_added_ms`` is Podium's best wall minus the floor's: what the runner adds to the whole
run, with what the machine adds to any program (timer and thread wake-ups, file creation) taken
out. On a quiet machine the floor reads 1.01; when this VM is busy reclaiming memory it rises,
and Podium's figure with it.

Last line: {"bench": "critical_path", "wall_over_critical_path": ..., ...}
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

os.environ["PODIUM_ENABLE_FAKE"] = "1"
from podium.testing.workloads import in_memory_dir, the_dag

DAG = the_dag("critical-path", latency=(0.010, 0.050), cache=False)


async def best_wall(fsync: bool, where: str | None = None) -> tuple[float, float]:
    """Best of 3 walls of the DAG on a fresh SQLite store in a temporary folder (under
    ``where``, default the system's temporary folder), and the median time ``run`` took
    past its wall to close the run (its final record and summary.json)."""
    from podium.settings import Settings
    from podium.spec.loader import load_pipeline_text
    from podium.store.sql import open_sql_store
    from podium.testing.workloads import fake_runner

    with tempfile.TemporaryDirectory(dir=where) as tmp:
        settings = Settings(home=Path(tmp), enable_fake=True)
        store = open_sql_store(settings, fsync=fsync)
        bench = fake_runner(settings, store)
        loaded = load_pipeline_text(DAG.text, "dag.yaml")
        walls, closes = [], []
        for i in range(3):
            t0 = time.perf_counter()
            outcome = await bench.runner.run(loaded, out_dir=Path(tmp) / f"out{i}")
            assert outcome.status == "succeeded", outcome.errors
            walls.append(outcome.wall_s)
            closes.append(time.perf_counter() - t0 - outcome.wall_s)
        await bench.close()
        store.close()
    return min(walls), statistics.median(closes)


async def bare_wall(where: str | None = None) -> float:
    """Best of 3 walls of the DAG made with bare asyncio: each step a task that awaits its
    parents' tasks, then submits to the fake provider and waits (directories made before the
    clock starts)."""
    from podium.catalog.catalog import load_catalog
    from podium.settings import Settings
    from podium.testing import CARDS
    from podium.testing.fake import FakeProvider
    from podium.testing.workloads import bare_text_call

    walls = []
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        provider = FakeProvider(Settings(home=Path(tmp), enable_fake=True))
        card = load_catalog([CARDS], shipped=False).get("fake/text-a")
        for r in range(3):
            works = {sid: Path(tmp) / f"{r}-{sid}" for sid in DAG.latency_s}
            for work in works.values():
                work.mkdir()
            os.sync()
            tasks: dict[str, asyncio.Future[None]] = {}
            t0 = time.perf_counter()
            for sid in DAG.latency_s:  # written in dependency order: parents come first
                parents = [tasks[p] for p in DAG.deps[sid]]
                call = bare_text_call(
                    provider, card, sid, latency_s=DAG.latency_s[sid], seed=1,
                    work_dir=works[sid], key=f"bare-{r}-{sid}",
                )  # fmt: skip
                tasks[sid] = asyncio.ensure_future(after(parents, call))
            await asyncio.gather(*tasks.values())
            walls.append(time.perf_counter() - t0)
    return min(walls)


async def after(parents: list[asyncio.Future[None]], call: Coroutine[Any, Any, None]) -> None:
    """Run ``call`` once every parent is done."""
    for parent in parents:
        await parent
    await call


async def main() -> dict[str, object]:
    bare = await bare_wall()
    best, close = await best_wall(fsync=True)
    best_nosync, _ = await best_wall(fsync=False)
    # the same where creating a file usually costs far less (see bench/overhead.py)
    shm = in_memory_dir()
    best_mem = (await best_wall(fsync=True, where=shm))[0] if shm else None
    cp = DAG.critical_path_s
    return {
        "bench": "critical_path",
        "wall_over_critical_path": round(best / cp, 3),
        "wall_over_critical_path_artifacts_not_fsynced": round(best_nosync / cp, 3),
        "wall_over_critical_path_in_memory_fs": round(best_mem / cp, 3) if best_mem else None,
        "bare_wall_over_critical_path": round(bare / cp, 3),
        "podium_added_ms": round((best - bare) * 1000, 1),
        "close_ms": round(close * 1000, 1),
        "wall_s": round(best, 3),
        "critical_path_s": round(cp, 3),
        "workload": "the DAG: 50 steps, 7 levels (8-8-8-8-8-6-4), latencies 10-50 ms, "
        "SQLite journal + file artifacts (fsynced; again not fsynced; again on /dev/shm), "
        "cache off, best of 3; floor: the same calls with bare asyncio, best of 3",
        "goal": "<= 1.05",
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    sys.stdout.write(json.dumps(result) + "\n")
