"""Offline voices: what a listener would notice — it is speech, it streams, it is captioned."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from podium.catalog import load_catalog
from podium.media.subtitles import read_subtitles
from podium.providers.base import Event
from podium.providers.local import LocalProvider
from podium.providers.local.workers import WorkerPool
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType
from tests.audio import measure
from tests.audio.engines import LEMON, make_request, run_local


@pytest.fixture(scope="module")
def lemon_voice(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Event]]:
    """The issue's text spoken by Piper, with the events it streamed."""
    import asyncio

    events: list[Event] = []
    work = tmp_path_factory.mktemp("lemon")
    request = make_request("local/piper", work, prompt={"text": LEMON})
    result = asyncio.run(run_local(request, events.append))
    audio, subs = result.outputs
    assert (audio.type, subs.type) == (ArtifactType.AUDIO, ArtifactType.SUBTITLES)
    return audio.path, subs.path, events


def _tone(rate: int, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return 0.5 * np.sin(2 * np.pi * 150 * t)


def test_piper_writes_speech_at_the_cards_rate(lemon_voice: tuple[Path, Path, list[Event]]) -> None:
    wav, _, _ = lemon_voice
    info = sf.info(str(wav))
    card = load_catalog().get("local/piper")
    assert info.format == "WAV" and info.channels == 1
    assert card.limits.sample_rates is not None
    assert info.samplerate == card.limits.sample_rates[0]
    x, rate = measure.mono(wav)
    f0 = measure.f0_voiced(x, rate)
    assert f0.size > 50, "too few voiced frames for speech"
    assert 80 <= float(np.median(f0)) <= 250
    peak_hz, share = measure.envelope_modulation(x, rate)
    assert 2.0 <= peak_hz <= 8.0 and share > 0.5
    # speech changes timbre all the time; a steady tone does not (the measure can tell them apart)
    assert measure.centroid_variation(x, rate) > 0.2
    assert measure.centroid_variation(_tone(rate), rate) < 0.02


async def test_espeak_is_speech_too(tmp_path: Path) -> None:
    result = await run_local(make_request("local/espeak", tmp_path, prompt={"text": LEMON}))
    x, rate = measure.mono(result.outputs[0].path)
    assert rate == 22050
    assert 80 <= float(np.median(measure.f0_voiced(x, rate))) <= 250
    peak_hz, share = measure.envelope_modulation(x, rate)
    assert 2.0 <= peak_hz <= 8.0 and share > 0.5
    assert read_subtitles(result.outputs[1].path)[0].text.startswith("Our new lemon soda")


@pytest.mark.parametrize("model", ["local/piper", "local/espeak"])
async def test_duration_grows_with_the_number_of_words(tmp_path: Path, model: str) -> None:
    texts = ["Fresh lemons.", "Fresh lemons, cold and sparkling, in every can.", LEMON]
    durations = []
    for i, text in enumerate(texts):
        result = await run_local(make_request(model, tmp_path / str(i), prompt={"text": text}))
        durations.append(sf.info(str(result.outputs[0].path)).duration)
    assert durations[0] < durations[1] < durations[2]
    words = [len(t.split()) for t in texts]
    per_word = (durations[2] - durations[0]) / (words[2] - words[0])
    assert 0.15 < per_word < 0.8  # seconds per added word: a speaking pace


async def test_streamed_chunks_join_to_the_non_streamed_output(
    tmp_path: Path, lemon_voice: tuple[Path, Path, list[Event]]
) -> None:
    wav, _, events = lemon_voice
    chunks = [e for e in events if e.kind == "partial"]
    assert len(chunks) >= 3
    assert [e.data["index"] for e in chunks] == list(range(len(chunks)))
    assert all(e.path is not None for e in chunks)
    joined = np.concatenate([sf.read(str(e.path), dtype="int16")[0] for e in chunks if e.path])
    # the same request again, nobody listening to the stream
    quiet = await run_local(make_request("local/piper", tmp_path, prompt={"text": LEMON}))
    whole = sf.read(str(quiet.outputs[0].path), dtype="int16")[0]
    assert np.array_equal(joined, whole)
    assert np.array_equal(whole, sf.read(str(wav), dtype="int16")[0])


async def test_first_chunk_arrives_before_synthesis_finishes(tmp_path: Path) -> None:
    """Through a worker process, as the runner runs it: the first chunk is heard early."""
    text = " ".join([LEMON] * 2)
    arrivals: list[float] = []
    pool = WorkerPool(1)
    try:
        provider = LocalProvider(Settings(), pool=pool)
        # a first request loads the voice in the worker, which then keeps it warm
        hello = make_request("local/piper", tmp_path / "hi", prompt={"text": "Hi."})
        await provider.wait(await provider.submit(hello, _drop), _drop)
        request = make_request("local/piper", tmp_path, prompt={"text": text})
        t0 = time.perf_counter()
        job = await provider.submit(request, lambda e: arrivals.append(time.perf_counter() - t0))
        result = await provider.wait(job, lambda e: arrivals.append(time.perf_counter() - t0))
        done = time.perf_counter() - t0
    finally:
        pool.shutdown()
    assert len(arrivals) >= 5
    assert arrivals[0] < 0.5 * done, (arrivals, done)
    assert result.outputs[0].metadata["ttfa_ms"] < 1000 * arrivals[-1]


def test_subtitles_follow_the_voice(lemon_voice: tuple[Path, Path, list[Event]]) -> None:
    wav, srt, _ = lemon_voice
    duration = sf.info(str(wav)).duration
    vtt = srt.with_suffix(".vtt")
    assert vtt.read_text(encoding="utf-8").startswith("WEBVTT")
    for path in (srt, vtt):
        cues = read_subtitles(path)
        assert " ".join(c.text for c in cues).split() == LEMON.split()
        starts = [c.start_s for c in cues]
        assert starts == sorted(starts)
        assert all(c.end_s > c.start_s for c in cues)
        assert cues[0].start_s < 0.3
        assert duration - 0.5 <= cues[-1].end_s <= duration
        assert all(len(c.text) <= 84 for c in cues)


async def test_rate_and_pauses_change_the_timing(
    tmp_path: Path, lemon_voice: tuple[Path, Path, list[Event]]
) -> None:
    fast = await run_local(
        make_request("local/piper", tmp_path / "b", prompt={"text": LEMON, "rate": 1.5})
    )
    slow_pauses = await run_local(
        make_request(
            "local/piper", tmp_path / "c", prompt={"text": LEMON}, params={"sentence_pause_s": 1.5}
        )
    )
    d = [sf.info(str(lemon_voice[0])).duration]
    d += [sf.info(str(r.outputs[0].path)).duration for r in (fast, slow_pauses)]
    assert d[1] < 0.8 * d[0]
    assert d[2] == pytest.approx(d[0] + 2 * 1.2, abs=0.05)  # two sentence ends, 1.2 s longer each


def _drop(event: Event) -> None:
    pass
