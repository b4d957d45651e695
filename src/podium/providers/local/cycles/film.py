"""From Cycles' linear radiance to the studio's look: the raster engine's tonemap, its
screen-space backdrop behind a transparent film, then its finish (grade, letterbox)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from podium.providers.local.scene.model import Scene

F32 = NDArray[np.float32]


def tonemap(x: F32, exposure: float) -> F32:
    """The raster shader's tonemap: exposure, the ACES fit, then a 2.2 gamma."""
    x = np.maximum(x * exposure, 0.0)
    y = np.clip((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0)
    return np.asarray(y ** (1.0 / 2.2), dtype=np.float32)


def _smoothstep(e0: float, e1: float, x: F32) -> F32:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return np.asarray(t * t * (3 - 2 * t), dtype=np.float32)


def backdrop(scene: Scene, width: int, height: int) -> F32:
    """The raster engine's backdrop (display values) behind everything the camera misses."""
    bg = scene.background
    top = np.asarray(bg.top, dtype=np.float32)
    bottom = np.asarray(bg.bottom, dtype=np.float32)
    v = np.linspace(1.0, 0.0, height, dtype=np.float32)[:, None, None]  # uv.y: 0 at the bottom
    u = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    if bg.kind == "solid":
        return np.broadcast_to(top, (height, width, 3)).astype(np.float32)
    if bg.kind == "gradient":
        c = bottom + (top - bottom) * _smoothstep(0.0, 1.0, v)
        glow = np.exp(-4.0 * ((u - 0.5) ** 2 + (v - 0.55) ** 2))
        return np.asarray(c * (0.85 + 0.3 * glow), dtype=np.float32)
    c = bottom + (top - bottom) * _smoothstep(0.0, 0.9, v)
    return np.asarray(np.broadcast_to(c, (height, width, 3)), dtype=np.float32)


def develop(rgba: F32, scene: Scene, exposure: float) -> NDArray[np.uint8]:
    """Premultiplied linear RGBA -> 8-bit display RGB over the backdrop (before the finish)."""
    h, w = rgba.shape[:2]
    alpha = np.clip(rgba[..., 3:4], 0.0, 1.0)
    straight = np.asarray(rgba[..., :3] / np.maximum(alpha, 1e-4), dtype=np.float32)
    shown = tonemap(straight, exposure) * alpha + backdrop(scene, w, h) * (1.0 - alpha)
    return np.asarray(np.clip(shown, 0.0, 1.0) * 255.0 + 0.5, dtype=np.uint8)
