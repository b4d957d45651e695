"""The studio in a worker process, as the local executor runs it: the GL context stays warm."""

from __future__ import annotations

from pathlib import Path

from podium.catalog.card import ModelCard
from podium.media.image import image_size
from podium.providers.base import Event, Request
from podium.providers.local.workers import WorkerPool
from podium.spec.vocabulary import ArtifactType, Task


def _request(tmp: Path, n: int) -> Request:
    work = tmp / f"w{n}"
    work.mkdir()
    return Request(
        step_id=f"hero-{n}",
        task=Task.TEXT_TO_IMAGE,
        card=ModelCard(id="local/studio", tasks=(Task.TEXT_TO_IMAGE,)),
        prompt={"subject": "a can", "lighting": "neon rim"},
        prompt_text="",
        inputs={},
        params={"width": 192, "height": 108},
        seed=n,
        outputs=(ArtifactType.IMAGE,),
        work_dir=work,
        idempotency_key=f"k{n}",
    )


async def test_studio_runs_in_a_worker_and_stays_warm(tmp_path: Path) -> None:
    pool = WorkerPool(workers=1)
    events: list[Event] = []
    try:
        first = await pool.run(_request(tmp_path, 1), events.append)
        second = await pool.run(_request(tmp_path, 2), events.append)
    finally:
        pool.shutdown()
    for result in (first, second):
        assert image_size(result.outputs[0].path) == (192, 108)
    # the second render reuses the worker's context: no cold start in its time
    assert second.outputs[0].metadata["render_s"] < first.outputs[0].metadata["render_s"]
