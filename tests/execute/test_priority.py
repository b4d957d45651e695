"""Local workers take the critical path first: waiting attempts go by their step's rank."""

from __future__ import annotations

from pathlib import Path

from podium.catalog.catalog import load_catalog
from podium.execute import local_runner
from podium.settings import Settings
from podium.spec.loader import load_pipeline_text
from podium.store.open import memory_store

from .conftest import Harness

SPEC = """
name: ranks
steps:
  - {id: leaf1, task: text, prompt: "nothing waits on me"}
  - {id: leaf2, task: text, prompt: "nor on me"}
  - {id: head, task: text, prompt: "a chain starts here"}
  - {id: middle, task: text, prompt: "${steps.head.output} and goes on"}
  - {id: tail, task: text, prompt: "${steps.middle.output} to here"}
"""


async def test_one_worker_runs_the_head_of_the_long_chain_before_a_leaf(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", workers=1)
    store = memory_store()
    runner, registry, executor = local_runner(settings, load_catalog(), store)
    try:
        outcome = await runner.run(load_pipeline_text(SPEC, "ranks.yaml"), out_dir=tmp_path / "o")
    finally:
        await registry.aclose()
        await executor.shutdown()
        store.close()
    assert outcome.status == "succeeded", outcome.errors
    steps = {s.step_id: s for s in store.journal.steps(outcome.run_id)}
    assert {s.model for s in steps.values()} == {"local/template@1"}
    # all three are ready at once; leaf1 is asked first and takes the only worker; of the two
    # left waiting, the head of the three-step chain outranks leaf2 and runs next
    assert steps["head"].finished_at < steps["leaf2"].finished_at


async def test_dependents_woken_together_start_highest_rank_first(
    harness: Harness, tmp_path: Path
) -> None:
    # `chain` waits on both roots and heads a three-step chain; `leaf` waits on root2 alone.
    # root1 ends first, so `chain` only begins waiting on root2 after `leaf` already does:
    # when root2 ends, `chain` must still start first (it has the longer road ahead)
    text = """
name: woken
steps:
  - {id: root1, task: text, prompt: a, params: {latency_s: 0.02}, route: {pin: fake/text-a}}
  - {id: root2, task: text, prompt: b, params: {latency_s: 0.12}, route: {pin: fake/text-a}}
  - {id: leaf, task: text, prompt: "${steps.root2.output}", params: {latency_s: 0.01},
      route: {pin: fake/text-a}}
  - {id: chain, task: text, prompt: "${steps.root1.output} ${steps.root2.output}",
      params: {latency_s: 0.05}, route: {pin: fake/text-a}}
  - {id: more, task: text, prompt: "${steps.chain.output}", params: {latency_s: 0.05},
      route: {pin: fake/text-a}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded", outcome.errors
    started = {a.step_key: a.started_at for a in harness.store.journal.attempts(outcome.run_id)}
    assert started["chain"] < started["leaf"]
