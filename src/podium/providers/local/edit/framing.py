"""Reframing a shot to another aspect ratio with the product kept in frame.

The product's centre comes from the shot's metadata when its engine knows it (studio renders
record ``product_center``); otherwise it is estimated from a frame: the centre of mass of the
pixels that differ from the frame's border colour (product shots sit on a plain background).
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from podium.media.ffmpeg import ffmpeg_exe


@dataclass(frozen=True)
class Crop:
    """Scale the source to ``scaled`` then crop ``size`` at ``offset``."""

    scaled: tuple[int, int]
    size: tuple[int, int]
    offset: tuple[int, int]


def estimate_focus(video: Path, at_s: float) -> tuple[float, float]:
    """Normalised (x, y) centre of the subject in the frame at ``at_s``; centre if unsure."""
    with tempfile.TemporaryDirectory() as tmp:
        frame = Path(tmp) / "f.png"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-nostdin",
                "-loglevel",
                "error",
                "-ss",
                f"{max(0.0, at_s):.3f}",
                "-i",
                str(video),
                "-frames:v",
                "1",
                "-vf",
                "scale=160:-2",
                str(frame),
            ],
            capture_output=True,
            timeout=60,
        )
        if not frame.exists():
            return 0.5, 0.5
        rgb = np.asarray(Image.open(frame).convert("RGB"), dtype=np.float32)
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    background = np.median(border, axis=0)
    distance = np.linalg.norm(rgb - background, axis=2)
    mask = distance > max(30.0, float(np.percentile(distance, 80)))
    if mask.sum() < 0.002 * mask.size:
        return 0.5, 0.5
    ys, xs = np.nonzero(mask)
    return float(xs.mean() + 0.5) / rgb.shape[1], float(ys.mean() + 0.5) / rgb.shape[0]


def focus_of(metadata: Mapping[str, Any], video: Path, duration_s: float) -> tuple[float, float]:
    """The subject's centre: from metadata when recorded, else estimated mid-shot."""
    centre = metadata.get("product_center")
    if isinstance(centre, list | tuple) and len(centre) == 2:
        return float(centre[0]), float(centre[1])
    return estimate_focus(video, duration_s / 2)


def cover_crop(
    source: tuple[int, int], target: tuple[int, int], focus: tuple[float, float]
) -> Crop:
    """Scale ``source`` to cover ``target`` and crop it around ``focus``."""
    sw, sh = source
    tw, th = target
    scale = max(tw / sw, th / sh)
    w = max(tw, 2 * math.ceil(sw * scale / 2))
    h = max(th, 2 * math.ceil(sh * scale / 2))
    x = round(focus[0] * w - tw / 2)
    y = round(focus[1] * h - th / 2)
    x = min(max(0, x), w - tw)
    y = min(max(0, y), h - th)
    return Crop((w, h), (tw, th), (x, y))
