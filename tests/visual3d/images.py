"""Test images: a product-like still and a ladder of degradations of it."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

RGB = NDArray[np.uint8]


def product_still(size: int = 384) -> RGB:
    """A bottle on a gradient sweep with a soft floor shadow, a label and a highlight."""
    h = w = size
    y = np.linspace(0, 1, h)[:, None, None]
    sweep = np.array([0.92, 0.90, 0.86]) * (1 - 0.35 * y) + np.array([0.55, 0.6, 0.7]) * 0.35 * y
    im = Image.fromarray((np.broadcast_to(sweep, (h, w, 3)) * 255).astype(np.uint8))
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse([w * 0.3, h * 0.78, w * 0.7, h * 0.86], fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(8))
    im = Image.composite(Image.new("RGB", (w, h), (60, 60, 70)), im, shadow)
    draw = ImageDraw.Draw(im)
    x0, x1 = int(w * 0.38), int(w * 0.62)
    for x in range(x0, x1):  # a cylinder's shading across the body
        shade = 0.35 + 0.65 * np.sin(np.pi * (x - x0) / (x1 - x0)) ** 0.7
        colour = tuple(int(v * shade) for v in (40, 140, 90))
        draw.line([(x, int(h * 0.3)), (x, int(h * 0.82))], fill=colour)
    draw.rectangle([int(w * 0.45), int(h * 0.18), int(w * 0.55), int(h * 0.3)], fill=(30, 100, 60))
    draw.rectangle(
        [int(w * 0.44), int(h * 0.14), int(w * 0.56), int(h * 0.19)], fill=(200, 170, 40)
    )
    draw.rectangle([x0 + 2, int(h * 0.5), x1 - 2, int(h * 0.65)], fill=(240, 235, 220))
    draw.text((x0 + 12, int(h * 0.55)), "LEMON", fill=(20, 20, 20))
    hx = int(w * 0.56)
    draw.line([(hx, int(h * 0.33)), (hx, int(h * 0.78))], fill=(250, 255, 250), width=3)
    return np.asarray(im.filter(ImageFilter.GaussianBlur(0.6)))


def blur(rgb: RGB, sigma: float) -> RGB:
    """Gaussian blur."""
    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(sigma)))


def noise(rgb: RGB, sigma: float) -> RGB:
    """Additive Gaussian noise of ``sigma`` 8-bit levels, seeded."""
    grain = np.random.default_rng(7).normal(0.0, sigma, rgb.shape)
    return np.asarray(np.clip(rgb + grain, 0, 255), dtype=np.uint8)


def jpeg(rgb: RGB, quality: int) -> RGB:
    """A JPEG round trip at ``quality``."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def gain(rgb: RGB, factor: float) -> RGB:
    """Exposure change: scale the encoded values, clipping at white."""
    return np.asarray(np.clip(rgb.astype(np.float64) * factor, 0, 255), dtype=np.uint8)


# each ladder: the degradation, then levels from mild to severe
LADDERS = {
    "blur": (blur, (1.0, 2.0, 4.0)),
    "noise": (noise, (5.0, 12.0, 30.0)),
    "jpeg": (jpeg, (40, 15, 5)),
    "over-exposure": (gain, (1.3, 1.8, 2.6)),
    "under-exposure": (gain, (0.6, 0.35, 0.15)),
}
