"""Fixtures for the provider tests: a loopback server per provider and a provider wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from podium.catalog.card import ModelCard
from podium.providers.comfyui import ComfyUIProvider
from podium.providers.elevenlabs import ElevenLabsProvider
from podium.providers.fal import FalProvider
from podium.providers.openai import OpenAIProvider
from podium.providers.replicate import ReplicateProvider
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task
from podium.testing.servers import Loopback, base_url, serve
from podium.testing.servers.contract import Harness, ProviderCase

KEYS = {
    "FAL_KEY": "fal-test-key-5f1c0b7e-secret",
    "REPLICATE_API_TOKEN": "r8_test_token_9a8b7c6d5e_secret",
    "OPENAI_API_KEY": "sk-test-openai-3e4f5a6b7c8d-secret",
    "ELEVENLABS_API_KEY": "xi-test-elevenlabs-1a2b3c4d-secret",
}


Case = ProviderCase
Wired = Harness

# ComfyUI's default text-to-image graph, exported with "Save (API Format)"
TXT2IMG: dict[str, Any] = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 0,
            "steps": 20,
            "cfg": 8,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "4": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"},
    },
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": 512, "height": 512, "batch_size": 1},
    },
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "podium", "images": ["8", 0]}},
}
SPEECH = "Meet Lemon Fizz. Bright, cold and ready for summer."
FAST = {"poll_s": 0.01, "poll_max_s": 0.05}

CASES: dict[str, Case] = {
    "fal": Case(
        "fal",
        FalProvider,
        ModelCard(
            id="fal/flux-schnell",
            version="1",
            tasks=(Task.TEXT_TO_IMAGE,),
            endpoint="fal-ai/flux/schnell",
            credentials=("FAL_KEY",),
            capabilities=("seed",),
            price={"usd": 0.003, "unit": "image"},
            extra={**FAST, "size_field": "image_size"},
        ),
        Task.TEXT_TO_IMAGE,
        (ArtifactType.IMAGE,),
    ),
    "replicate": Case(
        "replicate",
        ReplicateProvider,
        ModelCard(
            id="replicate/flux-schnell",
            version="1",
            tasks=(Task.TEXT_TO_IMAGE,),
            endpoint="black-forest-labs/flux-schnell",
            credentials=("REPLICATE_API_TOKEN",),
            capabilities=("seed",),
            price={"usd": 0.003, "unit": "image"},
            extra=FAST,
        ),
        Task.TEXT_TO_IMAGE,
        (ArtifactType.IMAGE,),
    ),
    "openai-image": Case(
        "openai-image",
        OpenAIProvider,
        ModelCard(
            id="openai/gpt-image-1",
            version="1",
            tasks=(Task.TEXT_TO_IMAGE,),
            endpoint="gpt-image-1",
            credentials=("OPENAI_API_KEY",),
            price={"usd": 0.042, "unit": "image"},
        ),
        Task.TEXT_TO_IMAGE,
        (ArtifactType.IMAGE,),
        queue=False,
        server="openai",
    ),
    "openai-speech": Case(
        "openai-speech",
        OpenAIProvider,
        ModelCard(
            id="openai/gpt-4o-mini-tts",
            version="1",
            tasks=(Task.TEXT_TO_SPEECH,),
            endpoint="gpt-4o-mini-tts",
            credentials=("OPENAI_API_KEY",),
            price={"usd": 0.015, "unit": "1k_chars"},
        ),
        Task.TEXT_TO_SPEECH,
        (ArtifactType.AUDIO, ArtifactType.SUBTITLES),
        queue=False,
        server="openai",
        prompt=SPEECH,
        cost_usd=0.015 * len(SPEECH) / 1000,
    ),
    "elevenlabs-speech": Case(
        "elevenlabs-speech",
        ElevenLabsProvider,
        ModelCard(
            id="elevenlabs/multilingual-v2",
            version="1",
            tasks=(Task.TEXT_TO_SPEECH,),
            endpoint="eleven_multilingual_v2",
            credentials=("ELEVENLABS_API_KEY",),
            capabilities=("seed", "streaming"),
            price={"usd": 0.1, "unit": "1k_chars"},
        ),
        Task.TEXT_TO_SPEECH,
        (ArtifactType.AUDIO, ArtifactType.SUBTITLES),
        queue=False,
        server="elevenlabs",
        prompt=SPEECH,
        cost_usd=0.1 * len(SPEECH) / 1000,
    ),
    "elevenlabs-music": Case(
        "elevenlabs-music",
        ElevenLabsProvider,
        ModelCard(
            id="elevenlabs/music",
            version="1",
            tasks=(Task.TEXT_TO_MUSIC,),
            endpoint="music_v1",
            credentials=("ELEVENLABS_API_KEY",),
            outputs={Task.TEXT_TO_MUSIC: (ArtifactType.AUDIO,)},
            price={"usd": 0.01, "unit": "output_second"},
            extra={"duration_s": 4},
        ),
        Task.TEXT_TO_MUSIC,
        (ArtifactType.AUDIO,),
        queue=False,
        server="elevenlabs",
        prompt="upbeat synth pop, 120 bpm",
        cost_usd=0.04,
    ),
    "comfyui": Case(
        "comfyui",
        ComfyUIProvider,
        ModelCard(
            id="comfyui/sd15-txt2img",
            version="1",
            tasks=(Task.TEXT_TO_IMAGE,),
            capabilities=("seed",),
            extra={
                **FAST,
                "ws_quiet_s": 0.3,
                "workflow": TXT2IMG,
                "fields": {
                    "prompt": "6.inputs.text",
                    "negative": "7.inputs.text",
                    "seed": "3.inputs.seed",
                    "width": "5.inputs.width",
                    "height": "5.inputs.height",
                },
            },
        ),
        Task.TEXT_TO_IMAGE,
        (ArtifactType.IMAGE,),
        content_policy=False,  # a self-hosted ComfyUI has no content policy, no quota
        billing=False,
    ),
}


@pytest.fixture
def servers() -> Iterator[Callable[[str], Loopback]]:
    """Start loopback servers by name; all are stopped at the end of the test."""
    started: list[Loopback] = []

    def start(name: str) -> Loopback:
        server = serve(name).start()
        server.faults.queue_s, server.faults.run_s = 0.02, 0.05
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def wire(
    servers: Callable[[str], Loopback], podium_home: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Wired]]:
    """Wire a provider case to a fresh loopback server (keys set, base URL pointed at it)."""
    clients: list[httpx.AsyncClient] = []
    for env, value in KEYS.items():
        monkeypatch.setenv(env, value)

    def make(name: str, *, read_timeout: float = 10.0) -> Wired:
        case = CASES[name]
        server = servers(case.server_name)
        url = base_url(case.server_name, server)
        settings = Settings(home=podium_home, **{f"{case.server_name}_url": url})
        client = httpx.AsyncClient(timeout=httpx.Timeout(read_timeout, connect=5.0))
        clients.append(client)
        return Harness.wire(case, server, settings, client, secrets=tuple(KEYS.values()))

    yield make
    for client in clients:
        await client.aclose()
