"""ComfyUI specifics: a workflow file registered as a card, quiet sockets, node errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from podium.catalog.catalog import load_card_file
from podium.errors import InvalidInput
from podium.providers.base import InputArtifact
from podium.spec.vocabulary import ArtifactType, Task
from tests.providers.conftest import TXT2IMG, Wired

CARD = """\
id: comfyui/my-sd15
version: "2026-11-24"
tasks: [text-to-image, image-to-image]
endpoint: workflow_api.json
capabilities: [seed]
price: {usd: 0, unit: free}
extra:
  poll_s: 0.01
  ws_quiet_s: 0.3
  fields:
    prompt: 6.inputs.text
    seed: 3.inputs.seed
    width: 5.inputs.width
    height: 5.inputs.height
  images: {image: 10.inputs.image}
"""


def register(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    workflow = {**TXT2IMG, "10": {"class_type": "LoadImage", "inputs": {"image": "x.png"}}}
    (tmp_path / "workflow_api.json").write_text(json.dumps(workflow))
    card_file = tmp_path / "my-sd15.yaml"
    card_file.write_text(CARD)
    return card_file


async def test_workflow_file_card_runs_with_mapped_fields(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("comfyui")
    (card,) = load_card_file(register(tmp_path / "cards"))
    request = w.request(tmp_path / "out", card=card, params={"width": 80, "height": 48}, seed=123)
    result = await w.provider.wait(await w.provider.submit(request, w.report), w.report)
    with Image.open(result.outputs[0].path) as img:
        assert img.size == (80, 48)
    job = next(iter(w.server.jobs.values()))  # type: ignore[attr-defined]
    assert job.input["3"]["inputs"]["seed"] == 123
    assert job.input["6"]["inputs"]["text"] == w.case.prompt
    kinds = {e.kind for e in w.events}
    assert {"queued", "started", "progress"} <= kinds


async def test_input_image_is_uploaded(wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire("comfyui")
    (card,) = load_card_file(register(tmp_path / "cards"))
    source = tmp_path / "product.png"
    Image.new("RGB", (16, 16), "red").save(source)
    artifact = InputArtifact(ArtifactType.IMAGE, source, "0" * 64)
    request = w.request(
        tmp_path / "out", card=card, task=Task.IMAGE_TO_IMAGE, inputs={"image": artifact}
    )
    await w.provider.wait(await w.provider.submit(request, w.report), w.report)
    assert w.server.uploads["product.png"] == source.read_bytes()  # type: ignore[attr-defined]
    job = next(iter(w.server.jobs.values()))  # type: ignore[attr-defined]
    assert job.input["10"]["inputs"]["image"] == "product.png"


async def test_quiet_socket_falls_back_to_history(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("comfyui")
    w.server.faults.ws_quiet = True
    result = await w.provider.wait(await w.provider.submit(w.request(tmp_path), w.report), w.report)
    assert result.outputs[0].path.exists()
    assert w.server.stats.requests["history"] >= 1


async def test_broken_workflow_names_the_node(wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire("comfyui")
    broken = {
        **TXT2IMG,
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["42", 0], "vae": ["4", 2]}},
    }
    card = w.case.card.model_copy(update={"extra": {**w.case.card.extra, "workflow": broken}})
    with pytest.raises(InvalidInput) as info:
        await w.provider.submit(w.request(tmp_path, card=card), w.report)
    assert "node 8 VAEDecode" in str(info.value)


async def test_ui_format_workflow_is_rejected_with_a_hint(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire("comfyui")
    card_file = register(tmp_path / "cards")
    (tmp_path / "cards" / "workflow_api.json").write_text(json.dumps({"nodes": [], "links": []}))
    (card,) = load_card_file(card_file)
    with pytest.raises(InvalidInput) as info:
        await w.provider.submit(w.request(tmp_path, card=card), w.report)
    assert "Save (API Format)" in str(info.value)


def test_check_says_when_comfyui_is_not_running(wire: Callable[..., Wired]) -> None:
    from podium.providers.comfyui import ComfyUIProvider
    from podium.settings import Settings

    w = wire("comfyui")
    assert w.provider.check(w.case.card) is None
    w.server.stop()
    down = ComfyUIProvider(Settings(comfyui_url=w.server.url), w.client)
    reason = down.check(w.case.card)
    assert reason is not None and "not reachable" in reason and "PODIUM_COMFYUI_URL" in reason
