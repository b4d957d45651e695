"""bench/overhead.py — what does Podium add to each call?

Workload: 1,000 zero-latency `text` steps on the fake provider, in 10 runs of 100 independent
steps (cache off, default retry policy, SQLite journal and file artifacts in a temporary
PODIUM_HOME: every step planned, journaled, verified, stored and linked out). Baseline: the
same 100 provider calls per batch (submit + wait, writing the same outputs, into directories
made before its clock starts) made with bare asyncio.gather in the same process. Podium's added
time per step in a batch is (run wall - bare wall) / 100; `ms_per_step_p50` is the median over
the 10 batches (goal <= 1).

Each side's clock starts after an ``os.sync()``. On the machine these figures come from, creating
a file gets slower as unsynced creations pile up (22 µs, then 760 µs after 900 creations; a
sync brings it back), so without it each side would pay for the files the other made before it,
and a step's cost would depend on what ran a moment earlier. Podium creates no more files than
the bare calls (it moves each output into the store and hard-links it into the out dir), but it
fsyncs them and adds directory entries, so the figure is also taken with the store and out dir
on ``/dev/shm`` (``ms_per_step_p50_in_memory_fs``), where file work usually costs far less: what
is left there is closer to the runner's own work (not all of it: when the VM is busy reclaiming
memory, a file on ``/dev/shm`` has cost 0.29 ms to create as well).

Last line: {"bench": "overhead", "ms_per_step_p50": ..., ...}
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BATCHES = 10
STEPS = 100


async def bare_batch(settings: Any, card: Any, root: Path, batch: int) -> float:
    """The same calls without Podium: submit + wait on the provider, bare asyncio."""
    from podium.testing.fake import FakeProvider
    from podium.testing.workloads import bare_text_call

    provider = FakeProvider(settings)

    works = [root / f"bare-{batch}-{i}" for i in range(STEPS)]
    for work in works:  # made before the clock starts: the calls alone are timed
        work.mkdir(parents=True)
    os.sync()
    calls = [
        bare_text_call(
            provider, card, f"s{i}", latency_s=0, seed=i, work_dir=works[i], key=f"b{batch}-{i}"
        )
        for i in range(STEPS)
    ]
    t0 = time.perf_counter()
    await asyncio.gather(*calls)
    return time.perf_counter() - t0


async def measure(
    fsync: bool, where: str | None = None
) -> tuple[list[float], list[float], list[float]]:
    """Added ms per step, Podium walls and bare walls per batch, on a fresh store in a
    temporary folder (under ``where``, default the system's temporary folder)."""
    from podium.settings import Settings
    from podium.spec.loader import load_pipeline_text
    from podium.store.sql import open_sql_store
    from podium.testing.workloads import fake_runner

    added: list[float] = []
    walls: list[float] = []
    bares: list[float] = []
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        settings = Settings(home=Path(tmp), enable_fake=True)
        store = open_sql_store(settings, fsync=fsync)
        bench = fake_runner(settings, store)
        card = bench.runner.catalog.get("fake/text-a")
        for b in range(BATCHES):
            steps = "\n".join(
                f"  - {{id: s{i}, task: text, prompt: b{b}-{i}, params: {{latency_s: 0}}, "
                f"route: {{pin: fake/text-a}}, cache: false}}"
                for i in range(STEPS)
            )
            loaded = load_pipeline_text(f"name: overhead\nsteps:\n{steps}\n")
            os.sync()  # both sides start from the same filesystem state (see the docstring)
            t0 = time.perf_counter()
            outcome = await bench.runner.run(loaded, out_dir=Path(tmp) / f"out{b}")
            wall = time.perf_counter() - t0
            assert outcome.status == "succeeded", outcome.errors
            bare = await bare_batch(settings, card, Path(tmp), b)
            walls.append(wall)
            bares.append(bare)
            added.append((wall - bare) / STEPS * 1000)
        await bench.close()
        store.close()
    return added, walls, bares


async def main() -> dict[str, object]:
    os.environ["PODIUM_ENABLE_FAKE"] = "1"
    from podium.testing.workloads import in_memory_dir

    added, walls, bares = await measure(fsync=True)
    added_nosync, _, _ = await measure(fsync=False)
    # the same again where creating a file usually costs far less: closer to the runner alone
    shm = in_memory_dir()
    added_mem = (await measure(fsync=True, where=shm))[0] if shm else []
    return {
        "bench": "overhead",
        "ms_per_step_p50": round(statistics.median(added), 3),
        "ms_per_step_p50_artifacts_not_fsynced": round(statistics.median(added_nosync), 3),
        "ms_per_step_p50_in_memory_fs": round(statistics.median(added_mem), 3)
        if added_mem
        else None,
        "ms_per_step_all": [round(a, 3) for a in added],
        "podium_wall_s_p50": round(statistics.median(walls), 3),
        "bare_wall_s_p50": round(statistics.median(bares), 4),
        "steps": BATCHES * STEPS,
        "workload": "1,000 zero-latency fake text steps in 10 runs of 100 independent steps, "
        "SQLite journal + file artifacts (fsynced; again not fsynced; again on /dev/shm), "
        "cache off; baseline: the same calls via bare asyncio",
        "goal": "<= 1",
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    sys.stdout.write(json.dumps(result) + "\n")
