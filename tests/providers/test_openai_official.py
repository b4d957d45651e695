"""The official ``openai`` package, pointed at the loopback server, works unchanged — proof the
server speaks OpenAI's protocol."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import openai
import pytest
from PIL import Image

from podium.testing.servers import Loopback


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
