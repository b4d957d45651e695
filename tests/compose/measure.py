"""Independent measurements of a written file: decoded samples through pyloudnorm (BS.1770) and
a 4x-oversampled true peak, and decoded frames — never the engine's own metadata."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile
from PIL import Image
from scipy.signal import resample_poly

from podium.media.ffmpeg import ffmpeg_exe


def decode_audio(path: Path, tmp: Path) -> tuple[np.ndarray, int]:
    """The file's audio as float samples."""
    wav = tmp / f"{path.stem}-decoded.wav"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(path), "-vn", "-c:a", "pcm_f32le",
         str(wav)],
        check=True,
    )  # fmt: skip
    data, rate = soundfile.read(str(wav), always_2d=True)
    return data, rate


def loudness(path: Path, tmp: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's audio."""
    data, rate = decode_audio(path, tmp)
    lufs = float(pyloudnorm.Meter(rate).integrated_loudness(data))
    over = resample_poly(data, 4, 1, axis=0)
    peak = float(np.max(np.abs(over)))
    return lufs, 20 * np.log10(max(peak, 1e-9))


def frame_at(path: Path, seconds: float, tmp: Path) -> np.ndarray:
    """The decoded RGB frame at ``seconds``."""
    png = tmp / f"{path.stem}-{seconds:.2f}.png"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-ss", f"{seconds}", "-i", str(path),
         "-frames:v", "1", str(png)],
        check=True,
    )  # fmt: skip
    return np.asarray(Image.open(png).convert("RGB"), dtype=np.float32)
