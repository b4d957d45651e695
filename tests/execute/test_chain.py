"""Walking a decision's chain: where each model's attempt runs."""

from __future__ import annotations

import asyncio

from podium.errors import Transient
from podium.execute.attempt import Produced
from podium.execute.hedge import run_chain


async def test_only_a_model_that_can_be_hedged_gets_a_task_of_its_own() -> None:
    ran_in: dict[str, asyncio.Task[object] | None] = {}

    async def try_model(model: str, hedge: bool) -> Produced:
        ran_in[model] = asyncio.current_task()
        if model == "a":
            raise Transient("a 503", where="step s")
        return Produced(model, [])

    produced = await run_chain(["a", "b"], try_model, hedge_after_s=5.0)
    assert produced.model == "b"
    # "a" could have been hedged by "b": it ran in a task; "b", last, had nothing to hedge
    # with and ran in place (no hop through the loop at either end)
    assert ran_in["a"] is not asyncio.current_task()
    assert ran_in["b"] is asyncio.current_task()

    ran_in.clear()
    produced = await run_chain(["b"], try_model, hedge_after_s=5.0)
    assert produced.model == "b" and ran_in["b"] is asyncio.current_task()


async def test_a_result_that_loses_the_race_by_a_hair_is_still_handed_over() -> None:
    gate = asyncio.Event()

    async def try_model(model: str, hedge: bool) -> Produced:
        if model == "a":  # the primary, slow until its hedge starts
            await gate.wait()
        else:  # the hedge releases the primary, and both end in the same turn of the loop
            gate.set()
            await asyncio.sleep(0)
        return Produced(model, [], cost_usd=1.0)

    spared: list[Produced] = []
    produced = await run_chain(["a", "b"], try_model, hedge_after_s=0.01, spare=spared.append)
    # one wins; the other was paid for too, and goes to whoever ledgers it
    assert {produced.model, *(p.model for p in spared)} == {"a", "b"}
    assert len(spared) == 1
