"""Streamed speech: chunks arrive as partial events and the time to first byte is measured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.providers.conftest import Wired


@pytest.mark.parametrize("name", ["openai-speech", "elevenlabs-speech"])
async def test_speech_streams_with_ttfb(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire(name)
    w.server.faults.slow_s = 0.15  # the first byte cannot come sooner than this
    job = await w.provider.submit(w.request(tmp_path), w.report)
    result = await w.provider.wait(job, w.report)
    partials = [e for e in w.events if e.kind == "partial"]
    assert len(partials) > 1
    assert partials[0].data["ttfb_ms"] == pytest.approx(result.metadata["ttfb_ms"], abs=0.1)
    assert result.metadata["ttfb_ms"] >= 150
    sizes = [e.data["bytes"] for e in partials]
    assert sizes == sorted(sizes) and sizes[-1] == result.outputs[0].path.stat().st_size
    srt = result.outputs[1].path.read_text()
    assert "Meet Lemon Fizz." in srt and "-->" in srt
    assert result.outputs[0].metadata["duration_s"] > 1.0


async def test_elevenlabs_pcm_is_wrapped_as_wav(wire: Callable[..., Wired], tmp_path: Path) -> None:
    import soundfile

    w = wire("elevenlabs-speech")
    card = w.case.card.model_copy(update={"extra": {"output_format": "pcm_24000"}})
    job = await w.provider.submit(w.request(tmp_path, card=card), w.report)
    result = await w.provider.wait(job, w.report)
    info = soundfile.info(str(result.outputs[0].path))
    assert info.samplerate == 24000 and info.duration > 1.0
