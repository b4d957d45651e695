"""The local provider runs the template engine inline and in a worker process."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.catalog import load_catalog
from podium.errors import InvalidInput
from podium.providers.base import Event, Request
from podium.providers.local import LocalProvider
from podium.providers.local.workers import WorkerPool
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task


def _request(tmp_path: Path, prompt: str) -> Request:
    card = load_catalog().get("local/template")
    return Request(
        step_id="script",
        task=Task.TEXT,
        card=card,
        prompt=prompt,
        prompt_text=prompt,
        inputs={},
        params={},
        seed=0,
        outputs=(ArtifactType.TEXT,),
        work_dir=tmp_path,
        idempotency_key="k1",
    )


async def test_template_inline(tmp_path: Path, settings: Settings) -> None:
    provider = LocalProvider(settings)
    job = await provider.submit(_request(tmp_path, "Meet   Lemon soda.\n  Taste summer."), _drop)
    result = await provider.wait(job, _drop)
    assert result.outputs[0].path.read_text() == "Meet Lemon soda.\nTaste summer.\n"
    assert result.outputs[0].metadata["words"] == 5


async def test_template_in_worker_process(tmp_path: Path, settings: Settings) -> None:
    pool = WorkerPool(1)
    try:
        provider = LocalProvider(settings, pool=pool)
        job = await provider.submit(_request(tmp_path, "Hello"), _drop)
        result = await provider.wait(job, _drop)
        assert result.outputs[0].path.read_text() == "Hello\n"
        with pytest.raises(InvalidInput) as info:
            await provider.wait(await provider.submit(_request(tmp_path, "  "), _drop), _drop)
        assert "step script" in str(info.value)
    finally:
        pool.shutdown()


def _drop(event: Event) -> None:
    pass
