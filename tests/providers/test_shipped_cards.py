"""Every shipped remote card is priced with a date and a source, names its key, and runs through
its provider against the loopback server (so its input mapping and output paths are right)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from podium.catalog import load_catalog
from podium.catalog.card import ModelCard
from podium.providers.base import InputArtifact, Request, load_providers
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task
from podium.testing.servers import Loopback, base_url
from tests.providers.conftest import KEYS

REMOTE = ("fal", "replicate", "openai", "elevenlabs", "comfyui")
CARDS = [c for c in load_catalog() if c.provider in (*REMOTE, "diffusers")]


def test_every_remote_provider_has_cards_and_an_entry_point() -> None:
    providers = load_providers()
    for name in (*REMOTE, "diffusers"):
        assert name in providers
        assert any(c.provider == name for c in CARDS)
    tasks = {t for c in CARDS if c.provider == "fal" for t in c.tasks}
    assert {Task.TEXT_TO_IMAGE, Task.TEXT_TO_VIDEO, Task.TEXT_TO_MUSIC, Task.TEXT_TO_3D} <= tasks


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.id)
def test_card_price_has_date_and_source(card: ModelCard) -> None:
    assert card.price.source
    if card.price.usd > 0:
        assert card.price.date is not None
        assert card.credentials  # a paid model needs a key


@pytest.mark.parametrize("card", [c for c in CARDS if c.credentials], ids=lambda c: c.id)
def test_without_its_key_a_card_is_excluded_naming_the_env_var(
    card: ModelCard, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env in card.credentials:
        monkeypatch.delenv(env, raising=False)
    provider = load_providers()[card.provider](settings, None)
    assert provider.check(card) == f"{card.credentials[0]} is not set"


@pytest.fixture(scope="module")
def loopbacks() -> Iterator[dict[str, Loopback]]:
    from podium.testing.servers import serve

    started = {name: serve(name).start() for name in REMOTE}
    for server in started.values():
        server.faults.queue_s, server.faults.run_s = 0.0, 0.02
    yield started
    for server in started.values():
        server.stop()


def _request(card: ModelCard, tmp_path: Path) -> Request:
    task = card.tasks[0]
    inputs = {}
    if task in (Task.IMAGE_TO_VIDEO, Task.IMAGE_TO_IMAGE):
        source = tmp_path / "still.png"
        Image.new("RGB", (32, 32), "green").save(source)
        inputs = {"image": InputArtifact(ArtifactType.IMAGE, source, "0" * 64)}
    duration = card.limits.min_duration_s or 3
    prompt = "Meet Lemon Fizz." if task == Task.TEXT_TO_SPEECH else "a lemon soda can"
    fast = card.model_copy(update={"extra": {**card.extra, "poll_s": 0.01, "poll_max_s": 0.05}})
    return Request(
        step_id="smoke",
        task=task,
        card=fast,
        prompt=prompt,
        prompt_text=prompt,
        inputs=inputs,
        params={"duration_s": duration, "width": 64, "height": 64},
        seed=3,
        outputs=card.outputs_for(task),
        work_dir=tmp_path,
        idempotency_key=f"smoke-{card.id}",
    )


@pytest.mark.parametrize("card", [c for c in CARDS if c.provider in REMOTE], ids=lambda c: c.id)
async def test_shipped_card_runs_against_its_loopback_server(
    card: ModelCard,
    loopbacks: dict[str, Loopback],
    tmp_path: Path,
    podium_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for env, value in KEYS.items():
        monkeypatch.setenv(env, value)
    server = loopbacks[card.provider]
    settings = Settings(
        home=podium_home, **{f"{card.provider}_url": base_url(card.provider, server)}
    )
    async with httpx.AsyncClient(timeout=30) as client:
        provider = load_providers()[card.provider](settings, client)
        assert provider.check(card) is None
        request = _request(card, tmp_path)
        result = await provider.wait(await provider.submit(request, lambda e: None), lambda e: None)
    assert [o.type for o in result.outputs] == list(request.outputs)
    assert all(o.path.stat().st_size > 0 for o in result.outputs)
    seconds = float(request.params["duration_s"])
    expected = card.price_for(images=1, seconds=seconds, chars=len(request.prompt_text))
    assert result.cost_usd == pytest.approx(expected, rel=0.1)  # audio length is measured
