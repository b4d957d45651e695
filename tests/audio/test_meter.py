"""Podium's in-memory BS.1770 meter against pyloudnorm, the independent reference."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest

from podium.media.loudness import gain_to_lufs
from podium.media.meter import integrated_loudness

RATE = 48000


def _signals() -> dict[str, tuple[np.ndarray, int]]:
    rng = np.random.default_rng(3)
    t = np.arange(RATE * 6) / RATE
    gate = (np.sin(2 * np.pi * 0.4 * t) > 0.3)[:, None]  # speech-like bursts and silences
    return {
        "stereo noise": (rng.normal(0, 0.1, (RATE * 6, 2)), RATE),
        "1 kHz tone": (np.stack([0.3 * np.sin(2 * np.pi * 1000 * t)] * 2, 1), RATE),
        "50 Hz hum": (np.stack([0.3 * np.sin(2 * np.pi * 50 * t)] * 2, 1), RATE),
        "8 kHz hiss": (np.stack([0.05 * np.sin(2 * np.pi * 8000 * t)] * 2, 1), RATE),
        "bursts": (rng.normal(0, 0.2, (RATE * 6, 2)) * gate, RATE),
        "mono 22.05 kHz": (rng.normal(0, 0.05, 22050 * 3), 22050),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_the_meter_agrees_with_pyloudnorm(name: str) -> None:
    samples, rate = _signals()[name]
    ours = integrated_loudness(samples, rate)
    reference = pyloudnorm.Meter(rate).integrated_loudness(samples)
    assert ours == pytest.approx(reference, abs=0.01)


def test_the_k_weighting_weighs_treble_up_and_bass_down() -> None:
    t = np.arange(RATE * 2) / RATE
    low, mid, high = (
        integrated_loudness(np.sin(2 * np.pi * f * t), RATE) for f in (30, 1000, 8000)
    )
    assert low < mid - 1.0 and high > mid + 2.0


def test_silence_and_short_clips_have_no_loudness() -> None:
    assert integrated_loudness(np.zeros((RATE, 2)), RATE) == -math.inf
    assert integrated_loudness(np.full(RATE // 10, 0.5), RATE) == -math.inf


def test_gain_to_lufs_brings_a_stem_to_its_target() -> None:
    samples, rate = _signals()["bursts"]
    gain = gain_to_lufs(samples, rate, -20.0)
    assert integrated_loudness(samples * 10 ** (gain / 20), rate) == pytest.approx(-20.0, abs=0.01)
