"""Image files: reading and writing RGB PNGs, and the colour statistics tests and grades use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from podium.errors import BadOutput, InvalidInput

RGB8 = NDArray[np.uint8]


def save_png(pixels: RGB8, path: str | Path) -> Path:
    """Write an (H, W, 3) uint8 array as a PNG; returns the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(p, optimize=False, compress_level=6)
    return p


def load_rgb(path: str | Path) -> RGB8:
    """An image file as an (H, W, 3) uint8 array.

    Raises:
        InvalidInput: the file is missing or not an image.
    """
    p = Path(path)
    try:
        with Image.open(p) as img:
            return np.asarray(img.convert("RGB")).copy()
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{p.name} is not a readable image: {exc}", where=str(p)) from exc


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file."""
    with Image.open(path) as img:
        return img.size


def check_image(path: str | Path, width: int, height: int) -> None:
    """Raise :class:`BadOutput` unless ``path`` is an image of exactly this size."""
    try:
        size = image_size(path)
    except OSError as exc:
        raise BadOutput(f"{Path(path).name} is not an image: {exc}") from exc
    if size != (width, height):
        raise BadOutput(f"{Path(path).name} is {size[0]}×{size[1]}, expected {width}×{height}")


def hsv_stats(pixels: RGB8) -> dict[str, float]:
    """Mean hue direction, saturation, value and contrast of an RGB image.

    Returns ``saturation`` and ``value`` (0..1 means), ``contrast`` (std of luma, 0..1),
    ``hue_deg`` (the saturation-weighted circular mean hue), ``warmth`` (mean R − B, −1..1) and
    ``luma`` (mean Rec. 709 luma, 0..1).
    """
    rgb = pixels.astype(np.float64) / 255.0
    mx, mn = rgb.max(axis=-1), rgb.min(axis=-1)
    sat = np.where(mx > 1e-6, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    hue = np.arctan2(np.sqrt(3.0) * (g - b), 2 * r - g - b)
    weight = sat * (mx - mn)
    hx, hy = float((np.cos(hue) * weight).sum()), float((np.sin(hue) * weight).sum())
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722])
    return {
        "saturation": float(sat.mean()),
        "value": float(mx.mean()),
        "contrast": float(luma.std()),
        "hue_deg": float(np.degrees(np.arctan2(hy, hx)) % 360.0),
        "warmth": float((r - b).mean()),
        "luma": float(luma.mean()),
    }
