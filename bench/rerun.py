"""bench/rerun.py — what does an unchanged re-run cost?

Workload: "the DAG" of issue 3 (50 text steps on the fake provider, 7 levels, widths
8-8-8-8-8-6-4), latencies drawn uniformly from 0.5–2 s per step (seed 1), each call costing
$0.01, default retry policy, SQLite journal and file artifacts. The pipeline runs twice,
unchanged, in one process: the second run should be all cache hits.
Figures: `wall_ratio` (second wall / first wall, goal <= 0.02) and `spend_usd` of the second
run (goal 0).

Last line: {"bench": "rerun", "wall_ratio": ..., "spend_usd": ..., ...}
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

    dag = the_dag("rerun", latency=(0.5, 2.0), params="cost_usd: 0.01")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp), enable_fake=True)
        store = open_store(settings)
        bench = fake_runner(settings, store)
        first = await bench.runner.run(load_pipeline_text(dag.text), out_dir=Path(tmp) / "1")
        second = await bench.runner.run(load_pipeline_text(dag.text), out_dir=Path(tmp) / "2")
        hits = sum(a.cache_hit for a in store.journal.attempts(second.run_id))
        await bench.close()
        store.close()
    assert first.status == second.status == "succeeded"
    return {
        "bench": "rerun",
        "wall_ratio": round(second.wall_s / first.wall_s, 4),
        "spend_usd": round(second.cost_usd, 6),
        "first_wall_s": round(first.wall_s, 3),
        "second_wall_s": round(second.wall_s, 3),
        "first_spend_usd": round(first.cost_usd, 6),
        "cache_hits": hits,
        "workload": "the DAG (50 steps, 8 wide, 7 deep), latencies 0.5-2 s, $0.01 per call, "
        "run twice unchanged, SQLite journal",
        "goal": "wall_ratio <= 0.02, spend_usd 0",
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    sys.stdout.write(json.dumps(result) + "\n")
