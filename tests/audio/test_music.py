"""Offline music: separate parts, sections on bar lines, exact length, seeded, moods that differ."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
import soundfile as sf

from podium.errors import InvalidInput
from podium.providers.base import Result
from tests.audio import measure
from tests.audio.engines import make_request, run_local

ENGINES = ["local/composer", "local/synth"]
POP = {"genre": "pop", "mood": "upbeat", "tempo_bpm": 120, "duration_s": 30,
       "structure": ["intro", "verse", "chorus", "outro"]}  # fmt: skip


async def _music(
    model: str, work: Path, prompt: dict[str, Any], seed: int = 0, **params: Any
) -> Result:
    return await run_local(make_request(model, work, prompt=prompt, seed=seed, params=params))


def _notes(mid: mido.MidiFile) -> dict[str, list[tuple[int, int]]]:
    """``track name -> [(tick, pitch)]`` of note-ons."""
    out: dict[str, list[tuple[int, int]]] = {}
    for track in mid.tracks:
        tick, name, notes = 0, "", []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "note_on" and msg.velocity > 0:
                notes.append((tick, msg.note, msg.channel))
        out[name] = [(t, p) for t, p, _ in notes]
        if notes and name == "drums":
            assert {c for _, _, c in notes} == {9}, "drums must be on MIDI channel 10"
    return out


def _tempo_and_markers(mid: mido.MidiFile) -> tuple[float, list[tuple[int, str]]]:
    tempo, markers, tick = 0.0, [], 0
    for msg in mid.tracks[0]:
        tick += msg.time
        if msg.type == "set_tempo":
            tempo = mido.tempo2bpm(msg.tempo)
        elif msg.type == "marker":
            markers.append((tick, msg.text))
    return tempo, markers


@pytest.mark.parametrize("model", ENGINES)
async def test_thirty_seconds_at_120_bpm_with_parts_and_bar_markers(
    tmp_path: Path, model: str
) -> None:
    audio, midi = (await _music(model, tmp_path, POP)).outputs
    info = sf.info(str(audio.path))
    assert info.duration == pytest.approx(30.0, abs=0.05)
    x, _ = measure.load(audio.path)
    assert np.sqrt((x**2).mean()) > 0.02, "the music is silent"
    mid = mido.MidiFile(str(midi.path))
    notes = _notes(mid)
    for part in ("chords", "melody", "bass", "drums"):
        assert len(notes.get(part, [])) >= 8, f"{part} part missing"
    tempo, markers = _tempo_and_markers(mid)
    assert tempo == pytest.approx(120.0)
    bar_ticks = 4 * mid.ticks_per_beat
    assert [name for _, name in markers] == ["intro", "verse", "chorus", "outro"]
    assert all(tick % bar_ticks == 0 for tick, _ in markers)
    bar_s = 4 * 60 / tempo
    meta = audio.metadata["markers"]
    assert [m["name"] for m in meta] == [name for _, name in markers]
    for m, (tick, _) in zip(meta, markers, strict=True):
        assert m["time_s"] == pytest.approx(tick / bar_ticks * bar_s, abs=1e-6)
        assert m["time_s"] / bar_s == pytest.approx(round(m["time_s"] / bar_s), abs=1e-9)


@pytest.mark.parametrize("model", ENGINES)
async def test_same_seed_same_bytes(tmp_path: Path, model: str) -> None:
    prompt = {"mood": "happy", "duration_s": 8}
    digests = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        result = await _music(model, tmp_path / name, prompt, seed)
        digests.append([hashlib.sha256(o.path.read_bytes()).hexdigest() for o in result.outputs])
    assert digests[0] == digests[1]
    assert digests[0][1] != digests[2][1]  # another seed, other notes


async def test_two_moods_differ_in_tempo_or_key(tmp_path: Path) -> None:
    found = []
    for mood in ("happy", "sad"):
        result = await _music("local/composer", tmp_path / mood, {"mood": mood, "duration_s": 12})
        mid = mido.MidiFile(str(result.outputs[1].path))
        tempo, _ = _tempo_and_markers(mid)
        pitched = [p for name, ns in _notes(mid).items() if name != "drums" for _, p in ns]
        found.append((tempo, measure.estimate_key(pitched, [1.0] * len(pitched))))
    (t1, k1), (t2, k2) = found
    assert abs(t1 - t2) / max(t1, t2) > 0.1 or k1 != k2
    assert k1[1] == "major" and k2[1] == "minor"  # happy sounds major, sad sounds minor


async def test_music_sized_to_the_voice_and_loopable(tmp_path: Path) -> None:
    # a pipeline passes ${steps.voice.output.duration_s}: a float, or text
    result = await _music("local/composer", tmp_path, {"mood": "calm", "duration_s": "9.37"})
    assert sf.info(str(result.outputs[0].path)).duration == pytest.approx(9.37, abs=0.002)
    loop = await _music("local/composer", tmp_path / "loop", {"duration_s": 9.37}, loop=True)
    meta = loop.outputs[0].metadata
    assert meta["bars"] * meta["bar_s"] == pytest.approx(9.37, abs=1e-6)  # whole bars
    x, _ = measure.load(loop.outputs[0].path)
    assert x.shape[0] == round(9.37 * 44100)
    # the reverb tail is folded onto the start, so the loop point is not a silent gap
    assert np.sqrt((x[:2205] ** 2).mean()) > 0.002


async def test_composer_and_synth_play_the_same_composition(tmp_path: Path) -> None:
    a = await _music("local/composer", tmp_path / "a", POP, seed=3)
    b = await _music("local/synth", tmp_path / "b", POP, seed=3)
    assert a.outputs[1].path.read_bytes() == b.outputs[1].path.read_bytes()
    assert a.outputs[0].path.read_bytes() != b.outputs[0].path.read_bytes()


async def test_bad_duration_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        await _music("local/synth", tmp_path, {"duration_s": "soon"})
    assert "step music" in str(info.value) and "duration_s" in str(info.value)
