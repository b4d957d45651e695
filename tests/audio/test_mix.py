"""mix-audio: the written file meets the loudness target and the music ducks under the voice.

Every figure is measured on the file with pyloudnorm and 4x oversampling, not read from the
metadata the mixer wrote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from podium.providers.base import Result
from tests.audio import measure
from tests.audio.engines import LEMON, make_request, run_local

BED_HZ = 55.0  # a music bed the voice has no energy at, so its level can be read under speech


@pytest.fixture(scope="module")
def gappy_voice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, float]]]:
    """Two sentences with a 3 s pause between them, and their timings."""
    import asyncio

    work = tmp_path_factory.mktemp("voice")
    request = make_request(
        "local/piper", work, prompt={"text": LEMON}, params={"sentence_pause_s": 3.0}
    )
    result = asyncio.run(run_local(request))
    return result.outputs[0].path, result.outputs[0].metadata["sentences"]


def _bed(path: Path, seconds: float) -> Path:
    t = np.arange(int(44100 * seconds)) / 44100
    tone = 0.3 * np.sin(2 * np.pi * BED_HZ * t)
    sf.write(str(path), np.stack([tone, tone], axis=1), 44100, subtype="PCM_16")
    return path


async def _mix(work: Path, voice: Path, music: Path, **params: object) -> Result:
    request = make_request(
        "local/mixer", work, inputs={"voice": voice, "music": music}, params=params
    )
    return await run_local(request)


async def test_mix_meets_loudness_and_ducks_the_music(
    tmp_path: Path, gappy_voice: tuple[Path, list[dict[str, float]]]
) -> None:
    voice, sentences = gappy_voice
    result = await _mix(tmp_path, voice, _bed(tmp_path / "bed.wav", 6.0))
    out = result.outputs[0].path
    assert sf.info(str(out)).samplerate == 48000
    assert measure.integrated_lufs(out) == pytest.approx(-14.0, abs=1.0)
    assert measure.true_peak_dbtp(out) <= -1.0
    x, rate = measure.mono(out)
    under = [
        measure.tone_level_db(x, rate, BED_HZ, s["start_s"] + 0.5, s["end_s"] - 0.3)
        for s in sentences
    ]
    gap_start, gap_end = sentences[0]["end_s"], sentences[1]["start_s"]
    in_gap = measure.tone_level_db(x, rate, BED_HZ, gap_start + 1.0, gap_end - 0.5)
    assert in_gap - max(under) >= 8.0, (in_gap, under)


async def test_speech_preset_over_composed_music(
    tmp_path: Path, gappy_voice: tuple[Path, list[dict[str, float]]]
) -> None:
    voice, _ = gappy_voice
    music = await run_local(
        make_request("local/composer", tmp_path / "m", prompt={"mood": "upbeat", "duration_s": 8})
    )
    result = await _mix(tmp_path, voice, music.outputs[0].path, loudness="speech")
    out = result.outputs[0].path
    voice_s = sf.info(str(voice)).duration
    # the music is shorter than the voice: it loops under it, and 1 s of it follows the voice
    assert sf.info(str(out)).duration == pytest.approx(voice_s + 1.0, abs=0.01)
    assert measure.integrated_lufs(out) == pytest.approx(-16.0, abs=1.0)
    assert measure.true_peak_dbtp(out) <= -1.0
