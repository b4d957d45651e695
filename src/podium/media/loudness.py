"""Loudness (EBU R128 / ITU-R BS.1770): measure any file, normalise any file.

Measurement runs ffmpeg's EBU R128 meter (integrated loudness, loudness range, true peak by
4x oversampling) on the file itself, so the figures describe what was actually encoded.
Normalisation applies one computed gain and, only when that gain would push the true peak over
the ceiling, a limiter running at four times the sample rate (so inter-sample peaks are caught);
the written file is measured again and the gain corrected until it is within tolerance.

Used by ``mix-audio`` (the last audio stage when no video follows) and by ``compose-video``.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.errors import BadOutput, InvalidInput
from podium.media.ffmpeg import ffmpeg_exe, probe, run_ffmpeg
from podium.media.meter import integrated_loudness

#: Loudness targets by preset name (LUFS integrated).
PRESETS: dict[str, float] = {"default": -14.0, "music": -14.0, "speech": -16.0, "broadcast": -23.0}
DEFAULT_TARGET_LUFS = -14.0
DEFAULT_TRUE_PEAK_DB = -1.0


@dataclass(frozen=True)
class Loudness:
    """Loudness of one file.

    Attributes:
        integrated_lufs: integrated loudness (LUFS); ``-inf`` for silence.
        true_peak_dbtp: true peak (dBTP).
        range_lu: loudness range (LU).
        threshold_lufs: the relative gate used for the integrated figure.
    """

    integrated_lufs: float
    true_peak_dbtp: float
    range_lu: float
    threshold_lufs: float

    def metadata(self) -> dict[str, float]:
        """The figures as artifact metadata (rounded to 0.01)."""
        return {
            "loudness_lufs": _round(self.integrated_lufs),
            "true_peak_dbtp": _round(self.true_peak_dbtp),
            "loudness_range_lu": _round(self.range_lu),
        }


def _round(value: float) -> float:
    return round(value, 2) if math.isfinite(value) else value


def _num(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        return float("-inf")


_META = re.compile(r"lavfi\.r128\.(I|LRA|true_peak|LRA\.low)=(-?[\d.]+|-?inf|nan)")


def measure_loudness(path: str | Path) -> Loudness:
    """Measure integrated loudness, loudness range and true peak of a file's audio.

    ffmpeg's ``ebur128`` meter (true peak by 4x oversampling) runs over the decoded audio; the
    figures are read, at full precision, from the metadata of its last frame.

    Raises:
        BadOutput: the file has no audio ffmpeg can decode.
    """
    p = Path(path)
    chain = (
        "asetnsamples=n=48000:p=0,"  # one metadata line per second, not per packet
        "ebur128=peak=true:metadata=1:framelog=quiet,ametadata=print:file=-"
    )
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(p)]
    cmd += ["-vn", "-af", chain, "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    values: dict[str, float] = {}
    for key, value in _META.findall(proc.stdout):
        values[key] = _num(value)
    if proc.returncode != 0 or "I" not in values:
        last = proc.stderr.strip().splitlines()
        raise BadOutput(f"{p.name}: no audio to measure ({last[-1] if last else 'empty'})")
    peak = values.get("true_peak", 0.0)
    return Loudness(
        integrated_lufs=values["I"],
        true_peak_dbtp=20 * math.log10(peak) if peak > 0 else float("-inf"),
        range_lu=values.get("LRA", 0.0),
        threshold_lufs=values["I"] - 10.0,
    )


def target_for(preset: str | float | None) -> float:
    """The LUFS target of a preset name (``default``, ``speech``, ...) or a number."""
    if preset is None:
        return DEFAULT_TARGET_LUFS
    if isinstance(preset, int | float):
        return float(preset)
    try:
        return float(preset)
    except ValueError:
        pass
    if preset not in PRESETS:
        raise InvalidInput(
            f"unknown loudness preset {preset!r}",
            hint=f"use a number of LUFS or one of {', '.join(sorted(PRESETS))}",
        )
    return PRESETS[preset]


def _codec_args(dst: Path, has_video: bool) -> list[str]:
    suffix = dst.suffix.lower()
    args = ["-map", "0:a:0"]
    if has_video:
        args = ["-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy"]
    if suffix in (".wav", ".wave"):
        return [*args, "-c:a", "pcm_s16le"]
    if suffix == ".flac":
        return [*args, "-c:a", "flac"]
    if suffix in (".mp4", ".m4a", ".mov"):
        return [*args, "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]
    if suffix == ".mp3":
        return [*args, "-c:a", "libmp3lame", "-b:a", "192k"]
    return args


def _apply(
    src: Path, dst: Path, gain_db: float, limit_db: float | None, rate: int, codec: list[str]
) -> None:
    chain = ["aformat=sample_fmts=fltp", f"volume={gain_db:.3f}dB"]
    if limit_db is not None:
        # limit at 4x the rate so inter-sample (true) peaks are limited too
        limit = min(1.0, max(0.0625, 10 ** (limit_db / 20.0)))
        chain += [
            f"aresample={rate * 4}",
            f"alimiter=limit={limit:.5f}:attack=2:release=80:level=disabled:latency=1",
            f"aresample={rate}",
        ]
    run_ffmpeg(
        ["-i", str(src), "-af", ",".join(chain), "-ar", str(rate), *codec, str(dst)],
        what=f"loudness normalisation of {src.name}",
    )


def normalize_loudness(
    src: str | Path,
    dst: str | Path,
    *,
    target_lufs: float = DEFAULT_TARGET_LUFS,
    true_peak_db: float = DEFAULT_TRUE_PEAK_DB,
    tolerance_lu: float = 0.3,
    codec_args: list[str] | None = None,
) -> Loudness:
    """Write ``src`` to ``dst`` at ``target_lufs`` with true peak at most ``true_peak_db``.

    Video streams, if any, are copied. The result is measured after encoding; if the limiter
    or the codec moved the loudness off target, the gain is corrected (at most four passes).

    Args:
        src: any media file with audio.
        dst: the output; its suffix picks the audio codec unless ``codec_args`` is given.
        target_lufs: integrated loudness target.
        true_peak_db: true-peak ceiling in dBTP.
        tolerance_lu: how close to the target is close enough.
        codec_args: ffmpeg output arguments replacing the ones picked by suffix.

    Returns:
        The loudness measured on ``dst``.

    Raises:
        BadOutput: the source is silent or ffmpeg failed.
    """
    s, d = Path(src), Path(dst)
    if s.resolve() == d.resolve():
        raise InvalidInput("normalize_loudness needs a destination other than its source")
    info = probe(s)
    if info.audio is None:
        raise BadOutput(f"{s.name} has no audio stream to normalise")
    rate = info.audio.sample_rate or 48000
    codec = codec_args if codec_args is not None else _codec_args(d, info.video is not None)
    before = measure_loudness(s)
    if not math.isfinite(before.integrated_lufs):
        raise BadOutput(f"{s.name} is silent: cannot normalise its loudness")
    gain = target_lufs - before.integrated_lufs
    margin = 0.3
    result = before
    tried: list[tuple[float, float]] = []
    for _ in range(4):
        limit: float | None = None
        if before.true_peak_dbtp + gain > true_peak_db - margin:
            limit = true_peak_db - margin
        _apply(s, d, gain, limit, rate, codec)
        result = measure_loudness(d)
        off = target_lufs - result.integrated_lufs
        over = result.true_peak_dbtp - true_peak_db
        if abs(off) <= tolerance_lu and over <= 0:
            break
        tried.append((gain, result.integrated_lufs))
        slope = 1.0
        if len(tried) >= 2 and tried[-1][0] != tried[-2][0]:
            # the limiter absorbs part of any gain: step by the loudness a dB of gain really buys
            (g1, l1), (g2, l2) = tried[-2], tried[-1]
            slope = min(1.0, max(0.2, (l2 - l1) / (g2 - g1)))
        gain += off / slope
        if over > 0:  # the codec or resampler overshot: leave more room under the ceiling
            margin += over + 0.1
    return result


def gain_to_lufs(samples: np.ndarray, sample_rate: int, target_lufs: float) -> float:
    """The gain in dB that brings in-memory ``samples`` to ``target_lufs`` (0 for silence).

    Used to balance stems before mixing; the final figure is always measured on the file.
    """
    data = samples if samples.ndim == 2 else samples[:, None]
    if data.shape[0] < int(0.5 * sample_rate):
        data = np.concatenate([data] * (int(0.5 * sample_rate) // max(1, data.shape[0]) + 1))
    lufs = integrated_loudness(data, sample_rate)
    if not math.isfinite(lufs):
        return 0.0
    return target_lufs - lufs
