"""bench/faults.py — how much do transient faults cost a run?

Workload: "the DAG" of issue 3 (50 text steps on the fake provider, 7 levels, widths
8-8-8-8-8-6-4), latencies drawn uniformly from 0.5–2 s per step (seed 1), default retry policy
(3 attempts, 0.25 s backoff with full jitter). Each step's chain is fake/text-a then
fake/text-b; 30 % of attempts on the primary fail fast (after 10 % of the step's latency) with
a Transient error. The same DAG without faults is the baseline, run in the same process.
Figures: `completed_pct` (goal 100) and `wall_over_fault_free` (goal <= 1.3).

Last line: {"bench": "faults", "completed_pct": ..., "wall_over_fault_free": ..., ...}
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

ROUTE = "{exclude: [fake-remote], policy: fastest, fallbacks: 1}"


async def main() -> dict[str, object]:
    os.environ["PODIUM_ENABLE_FAKE"] = "1"
    from podium.settings import Settings
    from podium.spec.loader import load_pipeline_text
    from podium.store.open import open_store
    from podium.testing.workloads import fake_runner, the_dag

    clean = the_dag("faults-free", latency=(0.5, 2.0), cache=False, route=ROUTE)
    faulty = the_dag(
        "faults",
        latency=(0.5, 2.0),
        cache=False,
        route=ROUTE,
        params="fail_rate: 0.3, fail_kind: transient, fail_model: fake/text-a",
    )
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        # one store per run: the clean run's observed latencies must not steer the faulty one
        for name, dag in (("clean", clean), ("faulty", faulty)):
            settings = Settings(home=Path(tmp) / name, enable_fake=True)
            store = open_store(settings)
            bench = fake_runner(settings, store)
            outcome = await bench.runner.run(load_pipeline_text(dag.text), out_dir=Path(tmp) / name)
            walls[name] = outcome.wall_s
            steps = [s for s in store.journal.steps(outcome.run_id) if s.status == "succeeded"]
            attempts = store.journal.attempts(outcome.run_id)
            await bench.close()
            store.close()
    failed = [a for a in attempts if a.status == "failed"]
    fallbacks = {a.step_key for a in attempts if a.model.startswith("fake/text-b")}
    base_wall, hit_wall = walls["clean"], walls["faulty"]
    return {
        "bench": "faults",
        "completed_pct": round(100.0 * len(steps) / 50, 1),
        "wall_over_fault_free": round(hit_wall / base_wall, 3),
        "wall_s": round(hit_wall, 3),
        "fault_free_wall_s": round(base_wall, 3),
        "critical_path_s": round(clean.critical_path_s, 3),
        "attempts": len(attempts),
        "failed_attempts": len(failed),
        "steps_on_fallback": len(fallbacks),
        "workload": "the DAG (50 steps, 8 wide, 7 deep), latencies 0.5-2 s, 30% of primary "
        "attempts fail fast with Transient, default retry policy, SQLite journal",
        "goal": "completed_pct 100, wall_over_fault_free <= 1.3",
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    sys.stdout.write(json.dumps(result) + "\n")
