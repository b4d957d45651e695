"""The text-to-music loop shared by ``local/composer`` (FluidSynth) and ``local/synth`` (numpy).

Read the music prompt, compose (seeded), write the MIDI, let the subclass render it, then make
the audio exactly ``duration_s`` long: a loop folds the release tail past the end back onto the
start (so it repeats seamlessly); otherwise the tail is cut and a short fade closes the piece.
"""

from __future__ import annotations

import abc
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import InvalidInput
from podium.media.audio import write_wav
from podium.media.loudness import gain_to_lufs
from podium.providers.base import Event, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.providers.local.music.arrange import arrange
from podium.providers.local.music.composition import (
    Composition,
    fit_tempo,
    number,
    read_structure,
)
from podium.providers.local.music.midi import write_midi
from podium.providers.local.music.theory import Key, parse_key, read_band, read_mood
from podium.spec.vocabulary import ArtifactType

DEFAULT_DURATION_S = 30.0
LEVEL_LUFS = -16.0  # a sensible standalone level; the mix sets the final one
PEAK = 10 ** (-1.0 / 20)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on", "loop")


def compose(request: Request) -> Composition:
    """The composition a music request asks for (deterministic for its seed)."""
    where = f"step {request.step_id}"
    duration = number(request.field("duration_s"), "duration_s", where, low=0.5, high=3600)
    duration = duration or DEFAULT_DURATION_S
    limit = request.card.limits.max_duration_s
    if limit is not None and duration > limit:
        raise InvalidInput(
            f"duration_s {duration:g} is longer than {request.card.id} makes ({limit:g} s)",
            where=where,
            hint="ask for less, or loop the music",
        )
    tempo_asked = number(request.field("tempo_bpm"), "tempo_bpm", where, low=30, high=260)
    mood_name, mood = read_mood(request.field("mood"))
    genre, band = read_band(request.field("genre"), request.field("instruments"))
    rng = random.Random(int(request.seed or 0))
    key = parse_key(request.field("key"), where)
    if key is None:
        tonics = (0, 2, 5, 7, 9) if mood.mode == "major" else (9, 4, 2, 7, 0)
        key = Key(rng.choice(tonics), mood.mode)
    loop = _truthy(request.params.get("loop", False))
    tempo, bars = fit_tempo(
        duration, tempo_asked or mood.tempo_bpm, fixed=tempo_asked is not None, loop=loop
    )
    comp = Composition(
        tempo_bpm=tempo,
        key=key,
        mood=mood_name,
        genre=genre,
        band=band,
        bars=bars,
        duration_s=duration,
        loop=loop,
        sections=read_structure(request.field("structure"), bars),
    )
    arrange(comp, mood, rng)
    return comp


def finish(audio: np.ndarray, comp: Composition, rate: int) -> np.ndarray:
    """Exactly ``duration_s`` of audio: tail folded (loop) or cut with a fade, then levelled."""
    frames = round(comp.duration_s * rate)
    out = np.zeros((frames, audio.shape[1]), dtype=np.float32)
    head = audio[:frames]
    out[: head.shape[0]] = head
    tail = audio[frames:]
    if comp.loop:
        while tail.shape[0]:
            piece = tail[:frames]
            out[: piece.shape[0]] += piece
            tail = tail[frames:]
    else:
        cut_mid_bar = comp.music_s - comp.duration_s > 1e-3
        fade_s = min(1.5, comp.duration_s / 4) if cut_mid_bar else 0.08
        n = min(frames, round(fade_s * rate))
        if n:
            out[frames - n :] *= np.linspace(1.0, 0.0, n, dtype=np.float32)[:, None]
    gain = 10 ** (gain_to_lufs(out, rate, LEVEL_LUFS) / 20)
    peak = float(np.abs(out).max()) * gain
    if peak > PEAK:
        gain *= PEAK / peak
    return np.asarray(out * gain, dtype=np.float32)


class MusicEngine(Engine):
    """A text-to-music engine; subclasses implement :meth:`render`."""

    sample_rate = 44100

    @abc.abstractmethod
    def render(self, comp: Composition, midi: Path, request: Request) -> np.ndarray:
        """Audio ``(frames, 2)`` float32 at :attr:`sample_rate` of the whole composition
        (anything past ``comp.duration_s`` is the release tail)."""

    def run(self, request: Request, report: Reporter) -> Result:
        """Compose, write MIDI, render, trim to the exact duration, write WAV."""
        t0 = time.perf_counter()
        comp = compose(request)
        midi = write_midi(comp, request.work_dir / "music.mid")
        report(Event(kind="progress", progress=0.1, message="composed"))
        audio = finish(self.render(comp, midi, request), comp, self.sample_rate)
        wav = write_wav(request.work_dir / "music.wav", audio, self.sample_rate)
        meta: dict[str, Any] = {
            "duration_s": round(audio.shape[0] / self.sample_rate, 6),
            "sample_rate": self.sample_rate,
            "channels": int(audio.shape[1]),
            "tempo_bpm": round(comp.tempo_bpm, 4),
            "key": comp.key.name,
            "mood": comp.mood,
            "genre": comp.genre,
            "bars": comp.bars,
            "bar_s": round(comp.bar_s, 6),
            "loop": comp.loop,
            "markers": comp.markers(),
            "parts": [p.name for p in comp.parts],
            "engine": self.name,
            "render_s": round(time.perf_counter() - t0, 3),
        }
        outputs = []
        for kind in request.outputs or (ArtifactType.AUDIO, ArtifactType.MIDI):
            if kind == ArtifactType.AUDIO:
                outputs.append(OutputFile(ArtifactType.AUDIO, wav, meta))
            elif kind == ArtifactType.MIDI:
                outputs.append(OutputFile(ArtifactType.MIDI, midi, {**meta, "format": "smf1"}))
            else:
                raise InvalidInput(
                    f"{request.card.id} cannot produce {kind.value}",
                    where=f"step {request.step_id}",
                    hint="text-to-music outputs audio and midi",
                )
        return Result(outputs=outputs)
