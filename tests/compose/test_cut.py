"""The final cut: a conformant H.264/AAC file of the asked duration, loudness and aspect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from podium.errors import BadOutput, InvalidInput
from podium.media.conformance import Expected, check_delivery
from podium.media.ffmpeg import probe
from podium.media.mp4 import read_layout
from podium.providers.base import Event, Request, Result
from podium.providers.local.cut import ENGINE
from tests.compose.measure import frame_at, loudness
from tests.compose.synth import make_audio

BRAND = (245, 197, 24)


def _run(request: Request, events: list[Event] | None = None) -> Result:
    return ENGINE.run(request, (events if events is not None else []).append)


def test_cut_is_conformant_16x9(cut_request: Callable[..., Request], tmp_path: Path) -> None:
    events: list[Event] = []
    result = _run(
        cut_request(headline="Lemon Soda", call_to_action="Grab one", brand_color="#f5c518"),
        events,
    )
    out = result.outputs[0].path
    info = probe(out)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height) == (1280, 720)
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert info.audio.codec == "aac" and info.audio.sample_rate == 48000
    layout = read_layout(out)
    assert layout.faststart
    video = layout.track("vide")
    assert video is not None and abs(video.duration_s - 6.0) <= 1 / 24 + 1e-6
    lufs, peak = loudness(out, tmp_path)
    assert -15.0 <= lufs <= -13.0, lufs
    assert peak <= -1.0, peak
    assert result.outputs[0].metadata["conformance"]["passed"] is True
    assert any(e.kind == "progress" for e in events)


def test_end_card_closes_the_cut(cut_request: Callable[..., Request], tmp_path: Path) -> None:
    result = _run(cut_request(headline="Lemon Soda", brand_color="#f5c518"))
    out = result.outputs[0].path
    last = frame_at(out, 5.8, tmp_path)
    shot = frame_at(out, 3.0, tmp_path)
    brand_share = np.mean(np.linalg.norm(last - np.array(BRAND), axis=2) < 40)
    assert brand_share > 0.6, brand_share
    assert np.mean(np.abs(last - shot)) > 30


def test_vertical_and_square(cut_request: Callable[..., Request]) -> None:
    for aspect, size in (("9:16", (720, 1280)), ("1:1", (720, 720))):
        out = _run(cut_request(aspect_ratio=aspect, end_card="none")).outputs[0].path
        v = probe(out).video
        assert v is not None and (v.width, v.height) == size


def test_captions_are_burned(cut_request: Callable[..., Request], tmp_path: Path) -> None:
    with_caps = _run(cut_request(end_card="none", transition="cut")).outputs[0].path
    without = _run(cut_request(end_card="none", transition="cut", subtitles="none")).outputs[0].path
    a, b = frame_at(with_caps, 1.0, tmp_path), frame_at(without, 1.0, tmp_path)
    diff = np.abs(a - b).mean(axis=2)
    rows = np.nonzero(diff.mean(axis=1) > 5)[0]
    assert rows.size > 0 and rows.min() > 0.6 * a.shape[0]  # in the lower part of the frame


def test_impossible_duration_is_invalid_input(cut_request: Callable[..., Request]) -> None:
    with pytest.raises(InvalidInput) as info:
        _run(cut_request(duration_s=1.0, headline="x", end_card_s=3))
    assert "step cut" in str(info.value) and "duration_s" in str(info.value)


def test_loudness_that_cannot_be_met_is_bad_output(
    cut_request: Callable[..., Request], tmp_path: Path
) -> None:
    # sparse clicks: the true-peak ceiling caps them long before -9 LUFS integrated
    clicks = make_audio(
        tmp_path / "clicks.wav",
        6.0,
        "aevalsrc='if(lt(mod(t\\,0.5)\\,0.002)\\,0.9\\,0)':s=48000:d=6",
    )
    with pytest.raises(BadOutput) as info:
        _run(cut_request(inputs={"audio": clicks}, loudness_target=-9, end_card="none"))
    assert "integrated_lufs" in str(info.value)


def test_check_delivery_names_each_failure(media: dict[str, object], tmp_path: Path) -> None:
    shots = media["shots"]
    assert isinstance(shots, tuple)
    report = check_delivery(shots[0].path, Expected(6.0, 30, 1280, 720))
    names = {c.name for c in report.failures()}
    assert {"duration_s", "fps", "resolution", "audio_codec", "faststart"} <= names
    assert "expected 30" in report.summary()
