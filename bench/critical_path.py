"""bench/critical_path.py — does the runner start every step the moment its inputs are ready?

Workload: "the DAG" of issue 3 (50 text steps on the fake provider in 7 levels, widths
8-8-8-8-8-6-4, each step referencing 1–2 steps of the level before), fixed latencies drawn
uniformly from 10–50 ms per step (seed 1), default retry policy, SQLite journal and file
artifacts in a temporary PODIUM_HOME, cache off. The figure is the run's wall time over the
DAG's critical path (the slowest chain of latencies); goal ≤ 1.05. Best of 3 runs.

Last line: {"bench": "critical_path", "wall_over_critical_path": ..., ...}
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path


async def main() -> dict[str, object]:
    os.environ["PODIUM_ENABLE_FAKE"] = "1"
    from podium.settings import Settings
    from podium.spec.loader import load_pipeline_text
    from podium.store.open import open_store
    from podium.testing.workloads import fake_runner, the_dag

    dag = the_dag("critical-path", latency=(0.010, 0.050), cache=False)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), enable_fake=True)
        store = open_store(settings)
        bench = fake_runner(settings, store)
        loaded = load_pipeline_text(dag.text, "dag.yaml")
        walls = []
        for i in range(3):
            outcome = await bench.runner.run(loaded, out_dir=Path(tmp) / f"out{i}")
            assert outcome.status == "succeeded", outcome.errors
            walls.append(outcome.wall_s)
        await bench.close()
        store.close()
    best = min(walls)
    return {
        "bench": "critical_path",
        "wall_over_critical_path": round(best / dag.critical_path_s, 3),
        "wall_s": round(best, 3),
        "critical_path_s": round(dag.critical_path_s, 3),
        "runs_wall_s": [round(w, 3) for w in walls],
        "workload": "the DAG: 50 steps, 7 levels (8-8-8-8-8-6-4), latencies 10-50 ms, "
        "SQLite journal, cache off, best of 3",
        "goal": "<= 1.05",
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    sys.stdout.write(json.dumps(result) + "\n")
