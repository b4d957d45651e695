"""``local/mixer``: ``mix-audio`` — voice over music, ducked, faded and loudness-normalised.

The mix lasts as long as the music, or as the voice plus ``tail_s`` when that is longer (the
music then loops). ``lead_in_s`` (default 0) delays the voice; it is recorded as
``voice_start_s`` so subtitles made from the voice can be shifted by it.
A sidechain follows the voice's envelope (with look-ahead and hold, so the music dips just before
a phrase and does not pump between words) and lowers the music by ``duck_db`` under speech.
The mix is then normalised to the target (−14 LUFS, or −16 with ``loudness: speech``) with the
true peak at most −1 dBTP, and the written file is measured again: those measured figures go
into the artifact's metadata.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import InvalidInput
from podium.media.audio import decode_audio, fit_length, write_wav
from podium.media.loudness import gain_to_lufs, normalize_loudness, target_for
from podium.providers.base import InputArtifact, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.spec.vocabulary import ArtifactType

RATE = 48000
HOP_S = 0.01


def speech_gain_db(
    voice: np.ndarray,
    rate: int,
    duck_db: float,
    *,
    lookahead_s: float = 0.08,
    hold_s: float = 0.35,
    attack_s: float = 0.06,
    release_s: float = 0.5,
) -> np.ndarray:
    """Per-sample music gain (dB): ``-duck_db`` where the voice speaks, 0 elsewhere, smoothed.

    Args:
        voice: mono voice samples.
        rate: their sample rate.
        duck_db: how far the music goes down under speech.
        lookahead_s: start ducking this long before the voice.
        hold_s: stay down through pauses shorter than this.
        attack_s: time constant going down.
        release_s: time constant coming back up.
    """
    hop = max(1, round(HOP_S * rate))
    frames = -(-voice.size // hop)
    padded = np.zeros(frames * hop, dtype=np.float32)
    padded[: voice.size] = voice
    rms = np.sqrt(np.mean(padded.reshape(frames, hop) ** 2, axis=1) + 1e-12)
    level = 20 * np.log10(rms)
    threshold = max(-50.0, float(np.percentile(level, 95)) - 30.0)
    active = level > threshold
    # hold and look-ahead: dilate the active frames
    ahead, hold = round(lookahead_s / HOP_S), round(hold_s / HOP_S)
    idx = np.flatnonzero(active)
    spread = np.zeros(frames + 1, dtype=np.int32)
    np.add.at(spread, np.clip(idx - ahead, 0, frames), 1)
    np.add.at(spread, np.clip(idx + hold + 1, 0, frames), -1)
    ducked = np.cumsum(spread)[:frames] > 0
    target = np.where(ducked, -duck_db, 0.0)
    smooth = np.empty(frames, dtype=np.float64)
    down, up = np.exp(-HOP_S / attack_s), np.exp(-HOP_S / release_s)
    g = 0.0
    for i, t in enumerate(target):
        k = down if t < g else up
        g = t + (g - t) * k
        smooth[i] = g
    per_sample = np.repeat(smooth, hop)[: voice.size]
    return np.asarray(per_sample, dtype=np.float32)


def _fade(n: int, rate: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    env = np.ones(n, dtype=np.float32)
    a, b = min(n, round(fade_in_s * rate)), min(n, round(fade_out_s * rate))
    if a:
        env[:a] = np.linspace(0.0, 1.0, a, dtype=np.float32)
    if b:
        env[n - b :] *= np.linspace(1.0, 0.0, b, dtype=np.float32)
    return env


def _param(request: Request, name: str, default: float, low: float, high: float) -> float:
    value = request.params.get(name, default)
    try:
        num = float(value)
    except (TypeError, ValueError):
        num = float("nan")
    if not low <= num <= high:
        raise InvalidInput(
            f"{name} {value!r} must be a number from {low:g} to {high:g}",
            where=f"step {request.step_id}",
            hint=f"the default is {default:g}",
        )
    return num


def _input(request: Request, slot: str) -> InputArtifact:
    art = request.single(slot)
    if art is None:
        raise InvalidInput(
            f"mix-audio needs a `{slot}` input",
            where=f"step {request.step_id}",
            hint=f"add `inputs: {{{slot}: ${{steps.ID.output}}}}`",
        )
    return art


class MixerEngine(Engine):
    """Voice over music with ducking, fades and loudness normalisation."""

    name = "mixer"

    def run(self, request: Request, report: Reporter) -> Result:
        """Mix ``voice`` over ``music`` and write a normalised 48 kHz stereo WAV."""
        where = f"step {request.step_id}"
        target = target_for(request.params.get("loudness", request.params.get("target_lufs")))
        if not -40.0 <= target <= -5.0:
            raise InvalidInput(f"loudness target {target:g} LUFS is out of range", where=where)
        peak = _param(request, "true_peak_db", -1.0, -9.0, 0.0)
        duck = _param(request, "duck_db", 12.0, 0.0, 40.0)
        lead = _param(request, "lead_in_s", 0.0, 0.0, 30.0)
        tail = _param(request, "tail_s", 1.0, 0.0, 60.0)
        bed = _param(request, "music_db", -4.0, -40.0, 10.0)
        voice_art, music_art = _input(request, "voice"), _input(request, "music")
        voice = decode_audio(voice_art.path, sample_rate=RATE, channels=1).mono()
        music = decode_audio(music_art.path, sample_rate=RATE, channels=2).samples
        # the music bed sets the length when it is longer (a promo's 18 s under a 6 s voice)
        n = max(music.shape[0], round(lead * RATE) + voice.size + round(tail * RATE))
        music = fit_length(music, n, loop=True)
        voice_track = np.zeros(n, dtype=np.float32)
        voice_track[round(lead * RATE) : round(lead * RATE) + voice.size] = voice
        v_gain = gain_to_lufs(voice, RATE, target - 1.0)
        m_gain = gain_to_lufs(music, RATE, target - 1.0 + bed)
        duck_curve = speech_gain_db(voice_track, RATE, duck)
        fade_in = _param(request, "fade_in_s", 0.3, 0.0, 30.0)
        fade_out = _param(request, "fade_out_s", 1.5, 0.0, 30.0)
        music_env = 10 ** ((m_gain + duck_curve) / 20) * _fade(n, RATE, fade_in, fade_out)
        mix = music * music_env[:, None] + (10 ** (v_gain / 20) * voice_track)[:, None]
        out = request.work_dir / "mix.wav"
        with tempfile.TemporaryDirectory(prefix="podium-mix-") as tmp:
            raw = write_wav(Path(tmp) / "raw.wav", mix.astype(np.float32), RATE, bits=24)
            measured = normalize_loudness(raw, out, target_lufs=target, true_peak_db=peak)
        meta: dict[str, Any] = {
            "duration_s": round(n / RATE, 4),
            "sample_rate": RATE,
            "channels": 2,
            **measured.metadata(),
            "target_lufs": target,
            "true_peak_limit_dbtp": peak,
            "duck_db": duck,
            "voice_start_s": lead,
            "measured_after_encoding": True,
        }
        return Result(outputs=[OutputFile(ArtifactType.AUDIO, out, meta)])


ENGINE = MixerEngine()
