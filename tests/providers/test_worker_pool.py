"""The local worker pool hands free workers to the highest-priority request waiting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from podium.catalog.card import ModelCard
from podium.providers.base import Request, ignore_events
from podium.providers.local.workers import WorkerPool
from podium.spec.vocabulary import ArtifactType, Task


def _request(tmp: Path, name: str, priority: float) -> Request:
    work = tmp / name
    work.mkdir()
    return Request(
        step_id=name,
        task=Task.TEXT,
        card=ModelCard(id="local/template", tasks=(Task.TEXT,)),
        prompt=f"text of {name}",
        prompt_text="",
        inputs={},
        params={},
        seed=0,
        outputs=(ArtifactType.TEXT,),
        work_dir=work,
        idempotency_key=name,
        priority=priority,
    )


async def test_waiting_requests_start_highest_priority_first(tmp_path: Path) -> None:
    pool = WorkerPool(workers=1)
    done: list[str] = []

    async def run(name: str, priority: float) -> None:
        await pool.run(_request(tmp_path, name, priority), ignore_events)
        done.append(name)

    try:
        await pool.warm(("template",))
        # the first takes the only worker; the others queue in the order given
        await asyncio.gather(
            run("first", 0.0), run("low", 1.0), run("high", 9.0), run("mid", 5.0), run("low2", 1.0)
        )
    finally:
        pool.shutdown()
    # highest first; equal priorities keep their arrival order
    assert done == ["first", "high", "mid", "low", "low2"]


async def test_a_request_cancelled_while_queued_gives_its_turn_on(tmp_path: Path) -> None:
    pool = WorkerPool(workers=1)
    try:
        await pool.warm(("template",))
        busy = asyncio.create_task(pool.run(_request(tmp_path, "busy", 0.0), ignore_events))
        queued = asyncio.create_task(pool.run(_request(tmp_path, "queued", 5.0), ignore_events))
        await asyncio.sleep(0)
        queued.cancel()
        await busy
        # the worker is free again: nothing holds the cancelled request's slot
        later = _request(tmp_path, "later", 0.0)
        result = await asyncio.wait_for(pool.run(later, ignore_events), timeout=30)
        assert result.outputs[0].path.read_text(encoding="utf-8").strip() == "text of later"
        assert queued.cancelled()
    finally:
        pool.shutdown()
