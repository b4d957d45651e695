"""Reading, writing and decoding audio as float32 numpy arrays.

WAV files are read and written with ``soundfile``; anything else (MP3, AAC, the audio track of
an MP4) is decoded through the ffmpeg binary. Samples are always ``float32`` shaped
``(frames, channels)`` in [-1, 1].
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from podium.errors import BadOutput
from podium.media.ffmpeg import ffmpeg_exe


@dataclass(frozen=True)
class Audio:
    """Decoded audio.

    Attributes:
        samples: float32 array shaped ``(frames, channels)``.
        sample_rate: frames per second.
    """

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return float(self.samples.shape[0]) / self.sample_rate

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[1])

    def mono(self) -> np.ndarray:
        """The channels averaged into one 1-D array."""
        return np.asarray(self.samples.mean(axis=1), dtype=np.float32)


def read_audio(path: str | Path) -> Audio:
    """Read a WAV/FLAC/OGG file as float32 ``(frames, channels)``.

    Raises:
        BadOutput: the file is missing or not audio soundfile can read.
    """
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise BadOutput(f"{Path(path).name} is not readable audio: {exc}") from exc
    return Audio(np.ascontiguousarray(data), int(rate))


def decode_audio(
    path: str | Path, *, sample_rate: int | None = None, channels: int | None = None
) -> Audio:
    """Decode any media file's first audio stream, resampled and remixed as asked.

    Args:
        path: a file ffmpeg can read.
        sample_rate: resample to this rate (default: keep the WAV's own, else 48000).
        channels: mix to this many channels (default: keep, else 2).

    Raises:
        BadOutput: ffmpeg cannot decode it.
    """
    p = Path(path)
    if sample_rate is None or channels is None:
        try:
            info = sf.info(str(p))
            sample_rate = sample_rate or int(info.samplerate)
            channels = channels or int(info.channels)
        except (sf.LibsndfileError, RuntimeError, OSError):
            sample_rate = sample_rate or 48000
            channels = channels or 2
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(p),
        "-vn",
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-ac",
        str(channels),
        "-ar",
        str(sample_rate),
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=600)
    if proc.returncode != 0 or not proc.stdout:
        last = proc.stderr.decode(errors="replace").strip().splitlines()
        raise BadOutput(f"cannot decode audio of {p.name}: {last[-1] if last else 'no audio'}")
    data = np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, channels)
    return Audio(np.ascontiguousarray(data, dtype=np.float32), sample_rate)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16, rounded and clipped the same way every time."""
    return np.asarray(np.clip(np.round(samples * 32767.0), -32767, 32767), dtype=np.int16)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int, *, bits: int = 16) -> Path:
    """Write float (or int16) samples as a PCM WAV file.

    Args:
        path: where to write.
        samples: ``(frames,)`` or ``(frames, channels)``; int16 arrays are written as they are.
        sample_rate: frames per second.
        bits: 16 or 24 (float input only).
    """
    p = Path(path)
    if samples.dtype == np.int16:
        sf.write(str(p), samples, sample_rate, subtype="PCM_16")
    elif bits == 24:
        sf.write(str(p), np.clip(samples, -1.0, 1.0), sample_rate, subtype="PCM_24")
    else:
        sf.write(str(p), to_int16(samples), sample_rate, subtype="PCM_16")
    return p


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample along the first axis with a polyphase filter (exact for rational ratios)."""
    if rate_in == rate_out:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate_in, rate_out)
    out = resample_poly(samples, rate_out // g, rate_in // g, axis=0)
    return np.asarray(out, dtype=np.float32)


def fit_length(samples: np.ndarray, frames: int, *, loop: bool = False) -> np.ndarray:
    """Cut or extend ``samples`` to exactly ``frames`` (extending with silence or by looping)."""
    n = samples.shape[0]
    if n >= frames:
        return samples[:frames]
    if loop and n > 0:
        reps = -(-frames // n)
        tiled = np.concatenate([samples] * reps, axis=0)
        return tiled[:frames]
    pad = np.zeros((frames - n, *samples.shape[1:]), dtype=samples.dtype)
    return np.concatenate([samples, pad], axis=0)


def db_to_gain(db: float) -> float:
    """Decibels as a linear amplitude factor."""
    return float(10.0 ** (db / 20.0))
