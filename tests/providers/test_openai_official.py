"""The official ``openai`` package, pointed at the loopback server, works unchanged — proof the
server speaks OpenAI's protocol."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from PIL import Image

from podium.providers.base import InputArtifact
from podium.spec.vocabulary import ArtifactType, Task
from podium.testing.servers import Loopback
from tests.providers.conftest import Wired


async def test_official_client_generates_an_image_and_streams_speech(
    servers: Callable[[str], Loopback],
) -> None:
    server = servers("openai")
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=f"{server.url}/v1", max_retries=0)
    try:
        image = await client.images.generate(
            model="gpt-image-1", prompt="a lemon soda can", size="1024x1024"
        )
        assert image.data and image.data[0].b64_json
        with Image.open(io.BytesIO(base64.b64decode(image.data[0].b64_json))) as img:
            assert img.size == (1024, 1024)
        assert image.usage is not None and image.usage.total_tokens > 0

        chunks = []
        async with client.audio.speech.with_streaming_response.create(
            model="gpt-4o-mini-tts",
            voice="alloy",
            input="Hello from Podium.",
            response_format="mp3",
        ) as response:
            async for chunk in response.iter_bytes(1024):
                chunks.append(chunk)
        audio = b"".join(chunks)
        assert len(chunks) > 1  # it really streamed
        assert audio[:3] == b"ID3" or audio[:2] in (b"\xff\xfb", b"\xff\xf3")

        server.faults.refuse = True
        with pytest.raises(openai.BadRequestError) as info:
            await client.images.generate(model="gpt-image-1", prompt="something refused")
        assert info.value.code == "moderation_blocked"
    finally:
        await client.close()


async def test_provider_edits_an_image(wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire("openai-image")
    source = tmp_path / "product.png"
    Image.new("RGB", (32, 32), "blue").save(source)
    card = w.case.card.model_copy(update={"tasks": (Task.IMAGE_TO_IMAGE,)})
    request = w.request(
        tmp_path / "out",
        card=card,
        task=Task.IMAGE_TO_IMAGE,
        params={"width": 1536, "height": 1024},
        inputs={"image": InputArtifact(ArtifactType.IMAGE, source, "0" * 64)},
    )
    result = await w.provider.wait(await w.provider.submit(request, w.report), w.report)
    assert result.metadata["size"] == "1536x1024"  # the model size closest to 3:2
    with Image.open(result.outputs[0].path) as img:
        assert img.size == (1536, 1024)
    assert w.server.stats.requests["edits"] == 1
