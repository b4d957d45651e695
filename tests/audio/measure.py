"""Independent measurements of audio for the audio tests (numpy, scipy, pyloudnorm only).

Nothing here reads an engine's metadata: each figure is computed from the samples in the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf
from scipy.signal import resample_poly


def load(path: Path) -> tuple[np.ndarray, int]:
    """Samples as float64 ``(frames, channels)`` and the rate."""
    data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    return data, int(rate)


def mono(path: Path) -> tuple[np.ndarray, int]:
    """Channels averaged."""
    data, rate = load(path)
    return data.mean(axis=1), rate


def integrated_lufs(path: Path) -> float:
    """BS.1770 integrated loudness by pyloudnorm."""
    data, rate = load(path)
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def true_peak_dbtp(path: Path) -> float:
    """True peak by 4x polyphase oversampling (BS.1770 annex 2)."""
    data, _ = load(path)
    up = resample_poly(data, 4, 1, axis=0)
    return float(20 * np.log10(np.abs(up).max()))


def frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    """Overlapping frames of a 1-D signal."""
    n = 1 + max(0, (x.size - size) // hop)
    idx = np.arange(size)[None, :] + hop * np.arange(n)[:, None]
    return x[idx]


def f0_voiced(x: np.ndarray, rate: int) -> np.ndarray:
    """Fundamental frequency (Hz) of voiced 40 ms frames, by normalised autocorrelation."""
    size, hop = int(0.04 * rate), int(0.01 * rate)
    fr = frames(x, size, hop) * np.hanning(size)
    energy = (fr**2).mean(axis=1)
    loud = energy > 0.05 * np.percentile(energy, 95)
    lo, hi = int(rate / 400), int(rate / 60)
    out = []
    for f in fr[loud]:
        ac = np.correlate(f, f, "full")[size - 1 :]
        ac /= ac[0] + 1e-12
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.5:  # clearly periodic: a voiced frame
            out.append(rate / lag)
    return np.asarray(out)


def envelope_modulation(x: np.ndarray, rate: int) -> tuple[float, float]:
    """The strongest modulation frequency (0.5-20 Hz) of the amplitude envelope, and the share
    of modulation energy between 2 and 8 Hz.

    A 0.5 s moving average is taken off the envelope first, so the slow rise and fall of
    phrases and pauses does not hide the syllables.
    """
    hop = int(rate / 100)
    env = np.sqrt((frames(x, hop, hop) ** 2).mean(axis=1))
    env = env - np.convolve(env, np.ones(50) / 50, "same")
    spectrum = np.abs(np.fft.rfft(env * np.hanning(env.size), n=8192)) ** 2
    freqs = np.fft.rfftfreq(8192, d=1 / 100)
    band = (freqs >= 0.5) & (freqs <= 20)
    syllables = (freqs >= 2) & (freqs <= 8)
    share = float(spectrum[syllables].sum() / spectrum[band].sum())
    return float(freqs[band][np.argmax(spectrum[band])]), share


def centroid_variation(x: np.ndarray, rate: int) -> float:
    """Coefficient of variation of the spectral centroid over loud 30 ms frames."""
    size = int(0.03 * rate)
    fr = frames(x, size, size // 2) * np.hanning(size)
    mag = np.abs(np.fft.rfft(fr, axis=1))
    freqs = np.fft.rfftfreq(size, 1 / rate)
    power = (mag**2).sum(axis=1)
    loud = power > 0.05 * np.percentile(power, 95)
    centroid = (mag[loud] * freqs).sum(axis=1) / (mag[loud].sum(axis=1) + 1e-12)
    return float(centroid.std() / centroid.mean())


def tone_level_db(x: np.ndarray, rate: int, freq: float, start: float, end: float) -> float:
    """Level (dBFS) of the ``freq`` component between ``start`` and ``end`` seconds."""
    seg = x[int(start * rate) : int(end * rate)]
    t = np.arange(seg.size) / rate
    amp = 2 * np.abs(np.mean(seg * np.exp(-2j * np.pi * freq * t)))
    return float(20 * np.log10(amp + 1e-12))


KRUMHANSL_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KRUMHANSL_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(pitches: list[int], weights: list[float]) -> tuple[int, str]:
    """Krumhansl-Schmuckler key estimate ``(tonic pitch class, mode)`` from notes."""
    hist = np.zeros(12)
    for p, w in zip(pitches, weights, strict=True):
        hist[p % 12] += w
    best = (-2.0, 0, "major")
    for tonic in range(12):
        for mode, profile in (("major", KRUMHANSL_MAJOR), ("minor", KRUMHANSL_MINOR)):
            r = float(np.corrcoef(hist, np.roll(profile, tonic))[0, 1])
            best = max(best, (r, tonic, mode))
    return best[1], best[2]
