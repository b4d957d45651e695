"""What only fal or only Replicate does: start deadlines, aborted predictions, webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from podium.errors import Timeout
from podium.providers.replicate import verify_webhook
from podium.testing.servers.replicate import parse_duration, sign_webhook
from tests.providers.conftest import KEYS, Wired


async def test_fal_user_start_deadline_is_a_timeout_never_retried(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("fal")
    w.server.faults.queue_s = 5.0  # stuck in the queue past the attempt's timeout
    job = await w.provider.submit(w.request(tmp_path, timeout_s=0.2), w.report)
    with pytest.raises(Timeout) as info:
        await w.provider.wait(job, w.report)
    assert not info.value.retryable
    assert "start deadline" in str(info.value)


async def test_fal_uses_the_urls_the_submit_returns(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("fal")
    job = await w.provider.submit(w.request(tmp_path), w.report)
    # the app id has a sub-path (flux/schnell); fal's URLs drop it
    assert "/fal-ai/flux/requests/" in job.state["status_url"]
    assert "schnell" not in job.state["status_url"]
    result = await w.provider.wait(job, w.report)
    assert result.outputs[0].path.exists()


async def test_fal_image_size_is_sent(wire: Callable[..., Wired], tmp_path: Path) -> None:
    from PIL import Image

    w = wire("fal")
    result = await w.provider.wait(await w.provider.submit(w.request(tmp_path), w.report), w.report)
    with Image.open(result.outputs[0].path) as img:
        assert img.size == (96, 64)


async def test_replicate_deadline_before_start_is_aborted_and_a_timeout(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("replicate")
    w.server.faults.queue_s = 1.5
    job = await w.provider.submit(w.request(tmp_path, timeout_s=1), w.report)
    with pytest.raises(Timeout) as info:
        await w.provider.wait(job, w.report)
    assert "before it started" in str(info.value)
    got = httpx.get(
        f"{w.server.url}/v1/predictions/{job.request_id}", headers={"Authorization": "Bearer x"}
    ).json()
    assert got["status"] == "aborted"


async def test_replicate_prefer_wait_answers_in_the_create(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("replicate")
    card = w.case.card.model_copy(update={"extra": {**w.case.card.extra, "sync_wait_s": 5}})
    job = await w.provider.submit(w.request(tmp_path, card=card), w.report)
    assert job.state["prediction"]["status"] == "succeeded"
    before = w.server.stats.requests["get"]
    result = await w.provider.wait(job, w.report)
    assert result.outputs[0].path.exists()
    assert w.server.stats.requests["get"] == before  # no polling was needed


@pytest.mark.parametrize(
    ("endpoint", "path"),
    [
        ("black-forest-labs/flux-dev", "/v1/models/black-forest-labs/flux-dev/predictions"),
        (
            "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
            "/v1/predictions",
        ),
        ("deployments/acme/flux", "/v1/deployments/acme/flux/predictions"),
    ],
)
async def test_replicate_create_routes(
    endpoint: str, path: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("replicate")
    card = w.case.card.model_copy(update={"endpoint": endpoint})
    url, payload = w.provider._create_url_and_body(w.request(tmp_path, card=card))  # type: ignore[attr-defined]
    assert url.endswith(path)
    assert payload["input"]["podium_marker"] == "run1-hero-0"
    result = await w.provider.wait(
        await w.provider.submit(w.request(tmp_path, card=card), w.report), w.report
    )
    assert result.outputs[0].path.exists()


async def test_replicate_webhook_is_signed_and_verified(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import Response
    from starlette.routing import Route

    from podium.testing.servers.base import Loopback

    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: StarletteRequest) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    class Receiver(Loopback):
        name = "receiver"

        def routes(self):  # type: ignore[no-untyped-def]
            return [Route("/hook", hook, methods=["POST"])]

    with Receiver() as receiver:
        w = wire("replicate")
        card = w.case.card.model_copy(
            update={"extra": {**w.case.card.extra, "webhook": f"{receiver.url}/hook"}}
        )
        job = await w.provider.submit(w.request(tmp_path, card=card), w.report)
        await w.provider.wait(job, w.report)
        secret = httpx.get(
            f"{w.server.url}/v1/webhooks/default/secret",
            headers={"Authorization": f"Bearer {KEYS['REPLICATE_API_TOKEN']}"},
        ).json()["key"]
        deadline = time.monotonic() + 3
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    headers, body = received[0]
    assert json.loads(body)["id"] == job.request_id
    assert verify_webhook(secret, headers, body)
    assert not verify_webhook(secret, headers, body + b" ")  # tampered body
    assert not verify_webhook("whsec_" + "A" * 32, headers, body)  # wrong secret
    old = {**headers, "webhook-timestamp": str(int(time.time()) - 3600)}
    old["webhook-signature"] = sign_webhook(
        secret, old["webhook-id"], old["webhook-timestamp"], body
    )
    assert not verify_webhook(secret, old, body)  # a replay from an hour ago


def test_cancel_after_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration("500ms") == 0.5
    assert parse_duration("soon") is None


async def test_fal_follows_the_status_stream(wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire("fal")
    w.server.faults.run_s = 0.3
    card = w.case.card.model_copy(update={"extra": {**w.case.card.extra, "status_stream": True}})
    job = await w.provider.submit(w.request(tmp_path, card=card), w.report)
    result = await w.provider.wait(job, w.report)
    assert result.outputs[0].path.exists()
    assert w.server.stats.requests["status"] == 0  # no polling: the SSE stream said it all
    assert any(e.kind == "log" for e in w.events)  # runner logs arrived on the stream


async def test_fal_uploads_big_inputs_and_inlines_small_ones(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    import numpy as np
    from PIL import Image

    from podium.catalog import load_catalog
    from podium.providers.base import InputArtifact
    from podium.providers.fal import FalProvider
    from podium.settings import Settings
    from podium.spec.vocabulary import ArtifactType, Task

    w = wire("fal")
    card = load_catalog().get("fal/kling-image-to-video")
    card = card.model_copy(update={"extra": {**card.extra, "poll_s": 0.01}})
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    noise = np.random.default_rng(0).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(big)  # noise does not compress: well over 256 KiB
    Image.new("RGB", (8, 8), "red").save(small)
    settings = Settings(home=w.settings.home, fal_url=w.server.url, fal_storage_url=w.server.url)
    provider = FalProvider(settings, w.client)
    request = w.request(
        tmp_path / "out",
        card=card,
        task=Task.IMAGE_TO_VIDEO,
        outputs=(ArtifactType.VIDEO,),
        params={"duration_s": 5},
        inputs={
            "image": InputArtifact(ArtifactType.IMAGE, big, "0" * 64),
            "last_frame": InputArtifact(ArtifactType.IMAGE, small, "1" * 64),
        },
    )
    result = await provider.wait(await provider.submit(request, w.report), w.report)
    assert result.outputs[0].path.stat().st_size > 0
    (job,) = w.server.jobs.values()  # type: ignore[attr-defined]
    uploaded = job.input["image_url"]
    assert uploaded.startswith(f"{w.server.url}/files/")
    assert w.server.files[uploaded.rsplit("/", 1)[1]][0] == big.read_bytes()  # type: ignore[attr-defined]
    assert job.input["tail_image_url"].startswith("data:image/png;base64,")
    assert job.input["duration"] == "5"  # Kling wants the duration as a string


async def test_fal_webhook_is_delivered_when_the_card_asks(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import Response
    from starlette.routing import Route

    from podium.testing.servers.base import Loopback

    received: list[bytes] = []

    async def hook(request: StarletteRequest) -> Response:
        received.append(await request.body())
        return Response(status_code=200)

    class Receiver(Loopback):
        name = "receiver"

        def routes(self):  # type: ignore[no-untyped-def]
            return [Route("/fal", hook, methods=["POST"])]

    with Receiver() as receiver:
        w = wire("fal")
        card = w.case.card.model_copy(
            update={"extra": {**w.case.card.extra, "webhook": f"{receiver.url}/fal"}}
        )
        job = await w.provider.submit(w.request(tmp_path, card=card), w.report)
        await w.provider.wait(job, w.report)
        deadline = time.monotonic() + 3
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    body = json.loads(received[0])
    assert body["request_id"] == job.request_id and body["status"] == "OK"
    assert body["payload"]["images"][0]["url"].startswith(w.server.url)


async def test_replicate_uploads_big_inputs_through_the_files_api(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    import numpy as np
    from PIL import Image

    from podium.providers.base import InputArtifact
    from podium.spec.vocabulary import ArtifactType

    w = wire("replicate")
    card = w.case.card.model_copy(
        update={
            "extra": {**w.case.card.extra, "inputs": {"reference": "image_prompt", "label": "mask"}}
        }
    )
    big, small = tmp_path / "big.png", tmp_path / "small.png"
    noise = np.random.default_rng(1).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(big)
    Image.new("RGB", (8, 8), "red").save(small)
    request = w.request(
        tmp_path / "out",
        card=card,
        inputs={
            "reference": InputArtifact(ArtifactType.IMAGE, big, "0" * 64),
            "label": InputArtifact(ArtifactType.IMAGE, small, "1" * 64),
        },
    )
    result = await w.provider.wait(await w.provider.submit(request, w.report), w.report)
    assert result.outputs[0].path.exists()
    (job,) = w.server.jobs.values()  # type: ignore[attr-defined]
    url = job.input["image_prompt"]
    assert url.startswith(f"{w.server.url}/v1/files/")
    assert httpx.get(url).content == big.read_bytes()
    assert job.input["mask"].startswith("data:image/png;base64,")
