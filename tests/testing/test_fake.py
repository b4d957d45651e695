"""The testing providers make small valid artifacts of every type and fail as they are told."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from podium.catalog.catalog import load_catalog
from podium.errors import BadOutput, InvalidInput, Transient
from podium.media.verify import verify_output
from podium.providers.base import Request, ignore_events
from podium.settings import Settings
from podium.spec.vocabulary import TASK_OUTPUTS, Task
from podium.testing import CARDS, catalog_dirs
from podium.testing.fake import DISABLED, FakeProvider
from podium.testing.fake_remote import FakeRemoteServer
from podium.testing.fake_remote_provider import FakeRemoteProvider

CATALOG = load_catalog([CARDS], shipped=False)


def request(card_id: str, tmp: Path, *, key: str = "k", **params: object) -> Request:
    card = CATALOG.get(card_id)
    task = card.tasks[0]
    tmp.mkdir(parents=True, exist_ok=True)
    return Request(
        step_id="s",
        task=task,
        card=card,
        prompt={"text": "Hello there. Bye now.", "duration_s": 1.0}
        if task in (Task.TEXT_TO_SPEECH, Task.TEXT_TO_MUSIC, Task.TEXT_TO_VIDEO)
        else "a prompt",
        prompt_text="Hello there. Bye now.",
        inputs={},
        params=params,
        seed=3,
        outputs=card.outputs_for(task),
        work_dir=tmp,
        idempotency_key=key,
    )


def test_cards_cover_every_task_and_only_when_enabled(tmp_path: Path) -> None:
    catalog = CATALOG
    assert {t for c in catalog if c.provider == "fake" for t in c.tasks} == set(Task)
    assert catalog_dirs(Settings(home=tmp_path)) == []
    assert catalog_dirs(Settings(home=tmp_path, enable_fake=True)) == [CARDS]
    card = catalog.get("fake/image-a")
    assert FakeProvider(Settings(home=tmp_path)).check(card) == DISABLED


@pytest.mark.parametrize("task", list(Task))
async def test_every_task_makes_valid_outputs(task: Task, tmp_path: Path) -> None:
    provider = FakeProvider(Settings(home=tmp_path, enable_fake=True))
    card = next(
        c
        for c in load_catalog([CARDS], shipped=False)
        if c.id.startswith("fake/") and task in c.tasks
    )
    req = request(card.id, tmp_path / "w", cost_usd=0.25)
    result = await provider.wait(await provider.submit(req, ignore_events), ignore_events)
    assert [o.type for o in result.outputs] == list(TASK_OUTPUTS[task])
    assert result.cost_usd == 0.25
    for out in result.outputs:
        verify_output(out.path, str(out.type))  # raises unless it decodes as what it claims


async def test_fail_kind_and_bad_output(tmp_path: Path) -> None:
    provider = FakeProvider(Settings(home=tmp_path, enable_fake=True))
    req = request("fake/image-a", tmp_path / "a", fail_rate=1, fail_kind="invalid_input")
    with pytest.raises(InvalidInput, match="fake invalid input"):
        await provider.wait(await provider.submit(req, ignore_events), ignore_events)
    req = request("fake/image-a", tmp_path / "b", fail_rate=1, fail_kind="bad_output")
    result = await provider.wait(await provider.submit(req, ignore_events), ignore_events)
    with pytest.raises(BadOutput):
        verify_output(result.outputs[0].path, "image")
    # fail_model limits the fault to one model
    req = request("fake/image-b", tmp_path / "c", fail_rate=1, fail_model="fake/image-a")
    assert (await provider.wait(await provider.submit(req, ignore_events), ignore_events)).outputs


async def test_fail_rate_is_a_reproducible_draw_per_key(tmp_path: Path) -> None:
    provider = FakeProvider(Settings(home=tmp_path, enable_fake=True))
    failures = 0
    for i in range(200):
        req = request("fake/text-a", tmp_path / f"w{i}", key=f"key-{i}", fail_rate=0.3)
        try:
            await provider.wait(await provider.submit(req, ignore_events), ignore_events)
        except Transient:
            failures += 1
    assert 40 <= failures <= 80  # about 30 %


async def test_fake_remote_round_trip_and_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeRemoteServer() as server:
        monkeypatch.setenv("PODIUM_FAKE_REMOTE_URL", server.url)
        async with httpx.AsyncClient() as client:
            provider = FakeRemoteProvider(Settings(home=tmp_path, enable_fake=True), client)
            req = request("fake-remote/speech", tmp_path / "w", key="once", latency_s=0.1)
            job = await provider.submit(req, ignore_events)
            assert job.request_id
            assert (await provider.find(req)).request_id == job.request_id  # type: ignore[union-attr]
            result = await provider.wait(
                await provider.resume(req, job.request_id, job.state), ignore_events
            )
            assert verify_output(result.outputs[0].path, "audio", expected_duration_s=1.0)
            assert verify_output(result.outputs[1].path, "subtitles")["cues"] == 2
        assert server.counts()["submits"] == {"once": 1}
