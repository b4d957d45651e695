"""``local/synth``: the same composition as ``local/composer``, rendered by a small numpy synth.

The fallback when no soundfont is installed: detuned-saw pads for the chords, a plucked triangle
for the melody, a sine-and-saw bass and synthesised drums (pitch-swept kick, noise snare and
hats). Plainer than the soundfont, but the same notes, structure, markers and exact duration,
and repeatable for a seed (the drum noise is drawn from it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from podium.catalog.card import ModelCard
from podium.providers.base import Request
from podium.providers.local.engine import check_requirements
from podium.providers.local.music.arrange import CLAP, CRASH, KICK, OPEN_HAT, SNARE, TOM_HI, TOM_LO
from podium.providers.local.music.composition import Composition, Note, Part
from podium.providers.local.music.engine import MusicEngine

_TAIL_S = 0.6
_PAN = {"chords": -0.25, "melody": 0.2, "bass": 0.0, "drums": 0.0}
_LEVEL = {"chords": 0.16, "melody": 0.22, "bass": 0.35, "drums": 0.5}


def _hz(pitch: int) -> float:
    return float(440.0 * 2 ** ((pitch - 69) / 12))


def _adsr(n: int, rate: int, attack: float, release: float, sustain: float = 0.8) -> np.ndarray:
    env = np.full(n, sustain, dtype=np.float32)
    a = min(n, max(1, int(attack * rate)))
    env[:a] = np.linspace(0.0, 1.0, a, dtype=np.float32) * sustain
    r = min(n, max(1, int(release * rate)))
    env[n - r :] *= np.linspace(1.0, 0.0, r, dtype=np.float32)
    return env


def _pad(note: Note, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    n = int((seconds + 0.4) * rate)
    t = np.arange(n, dtype=np.float32) / rate
    f = _hz(note.pitch)
    wave = sum(2.0 * ((t * f * d) % 1.0) - 1.0 for d in (0.996, 1.0, 1.004)) / 3.0
    # one-pole low-pass: a warmer pad than the raw saw
    smooth = _one_pole(np.asarray(wave, dtype=np.float32), 0.12)
    return np.asarray(smooth * _adsr(n, rate, 0.08, 0.4), dtype=np.float32)


def _one_pole(x: np.ndarray, k: float) -> np.ndarray:
    from scipy.signal import lfilter

    return np.asarray(lfilter([k], [1.0, k - 1.0], x), dtype=np.float32)


def _pluck(note: Note, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    n = int((seconds + 0.3) * rate)
    t = np.arange(n, dtype=np.float32) / rate
    phase = (t * _hz(note.pitch)) % 1.0
    tri = 4.0 * np.abs(phase - 0.5) - 1.0
    return np.asarray(tri * np.exp(-t * 3.0) * _adsr(n, rate, 0.005, 0.25, 1.0), np.float32)


def _bass(note: Note, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    n = int((seconds + 0.15) * rate)
    t = np.arange(n, dtype=np.float32) / rate
    f = _hz(note.pitch)
    wave = np.sin(2 * np.pi * f * t) + 0.25 * (2.0 * ((t * f) % 1.0) - 1.0)
    return np.asarray(wave * _adsr(n, rate, 0.01, 0.12, 0.9), dtype=np.float32)


def _drum(note: Note, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    p = note.pitch
    if p == KICK:
        n = int(0.35 * rate)
        t = np.arange(n, dtype=np.float32) / rate
        freq = 45 + 75 * np.exp(-t * 30)
        return np.asarray(np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t * 9), np.float32)
    if p in (TOM_LO, TOM_HI):
        n = int(0.3 * rate)
        t = np.arange(n, dtype=np.float32) / rate
        f = 110 if p == TOM_LO else 160
        return np.asarray(0.8 * np.sin(2 * np.pi * f * t) * np.exp(-t * 12), np.float32)
    long = p in (CRASH, OPEN_HAT)
    n = int((0.9 if long else 0.18) * rate)
    t = np.arange(n, dtype=np.float32) / rate
    noise = rng.standard_normal(n).astype(np.float32)
    if p in (SNARE, CLAP):
        tone = np.sin(2 * np.pi * 185 * t)
        return np.asarray((0.6 * noise + 0.5 * tone) * np.exp(-t * 18) * 0.7, np.float32)
    hiss = np.diff(noise, prepend=0.0)  # crude high-pass: hats and cymbals live up high
    decay = 4.0 if long else 40.0
    return np.asarray(0.25 * hiss * np.exp(-t * decay), np.float32)


_VOICES: dict[str, Callable[[Note, float, int, np.random.Generator], np.ndarray]] = {
    "chords": _pad,
    "melody": _pluck,
    "bass": _bass,
    "drums": _drum,
}


def _render_part(part: Part, comp: Composition, rate: int, frames: int, seed: int) -> np.ndarray:
    out = np.zeros(frames, dtype=np.float32)
    rng = np.random.default_rng(seed)
    voice = _VOICES.get(part.name, _pluck)
    for note in part.notes:
        start = round(comp.seconds(note.start) * rate)
        if start >= frames:
            continue
        wave = voice(note, comp.seconds(note.length), rate, rng) * (note.velocity / 127.0)
        end = min(frames, start + wave.size)
        out[start:end] += wave[: end - start]
    return out * _LEVEL.get(part.name, 0.2)


class SynthEngine(MusicEngine):
    """The numpy renderer: needs nothing beyond numpy and scipy."""

    name = "synth"

    def check(self, card: ModelCard) -> str | None:
        """Why the synth cannot run (only if numpy/scipy/mido were missing)."""
        return check_requirements(card.engine)

    def render(self, comp: Composition, midi: Path, request: Request) -> np.ndarray:
        """Each part synthesised, panned and summed into stereo at 44.1 kHz."""
        rate = self.sample_rate
        frames = round((max(comp.music_s, comp.duration_s) + _TAIL_S) * rate)
        stereo = np.zeros((frames, 2), dtype=np.float32)
        for i, part in enumerate(comp.parts):
            mono = _render_part(part, comp, rate, frames, int(request.seed or 0) * 31 + i)
            pan = _PAN.get(part.name, 0.0)
            stereo[:, 0] += mono * (1.0 - pan) * 0.5
            stereo[:, 1] += mono * (1.0 + pan) * 0.5
        return stereo


ENGINE = SynthEngine()
