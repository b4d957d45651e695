"""The final soundtrack: sized to the cut, faded, normalised to a loudness target with a
true-peak ceiling that leaves margin for AAC encoding.

Normalisation is a measured gain followed by a look-ahead limiter, measured again and corrected
once (the limiter takes a little loudness); the caller measures the encoded file and asks for one
more correction if AAC moved it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podium.media.ffmpeg import run_ffmpeg
from podium.media.loudness import Loudness, measure_loudness


@dataclass(frozen=True)
class SoundtrackSpec:
    """How to shape the soundtrack.

    Attributes:
        duration_s: exact length.
        target_lufs: integrated loudness target.
        ceiling_dbtp: limiter ceiling (below the delivery limit, for AAC's overshoot).
        fade_in_s: fade at the start.
        fade_out_s: fade at the end.
        sample_rate: output rate.
    """

    duration_s: float
    target_lufs: float = -14.0
    ceiling_dbtp: float = -2.0
    fade_in_s: float = 0.05
    fade_out_s: float = 1.2
    sample_rate: int = 48000


def _shape(src: Path, out: Path, spec: SoundtrackSpec, gain_db: float) -> Loudness:
    d = spec.duration_s
    fade_out = min(spec.fade_out_s, d / 3)
    ceiling = 10 ** (spec.ceiling_dbtp / 20)
    chain = ",".join(
        [
            f"aresample={spec.sample_rate}",
            "aformat=channel_layouts=stereo",
            "apad",
            f"atrim=0:{d:.4f}",
            f"afade=t=in:d={spec.fade_in_s:.3f}",
            f"afade=t=out:st={d - fade_out:.4f}:d={fade_out:.4f}",
            f"volume={gain_db:.3f}dB",
            # oversampled limiter: true peak stays under the ceiling
            f"aresample={spec.sample_rate * 4}",
            f"alimiter=limit={ceiling:.5f}:level=false:attack=2:release=60",
            f"aresample={spec.sample_rate}",
        ]
    )
    run_ffmpeg(
        ["-i", str(src), "-af", chain, "-c:a", "pcm_s16le", str(out)],
        what="soundtrack",
    )
    return measure_loudness(out)


def make_soundtrack(
    src: Path, out: Path, spec: SoundtrackSpec, extra_gain_db: float = 0.0
) -> Loudness:
    """Write ``out`` (WAV) from ``src`` shaped by ``spec``; return its measured loudness."""
    probe_out = out.with_suffix(".probe.wav")
    first = _shape(src, probe_out, spec, 0.0)
    if first.integrated_lufs == float("-inf"):
        probe_out.replace(out)
        return first
    gain = spec.target_lufs - first.integrated_lufs + extra_gain_db
    loud = _shape(src, out, spec, gain)
    if abs(loud.integrated_lufs - spec.target_lufs - extra_gain_db) > 0.3:
        gain += spec.target_lufs + extra_gain_db - loud.integrated_lufs
        loud = _shape(src, out, spec, gain)
    probe_out.unlink(missing_ok=True)
    return loud
