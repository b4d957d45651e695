"""Label and logo textures: a user's image fitted onto label paper, or a brand label drawn
from the prompt's text."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from podium.providers.local.scene.model import RGB, Label

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"))


def _rgb(c: RGB) -> tuple[int, int, int]:
    return (int(c[0] * 255), int(c[1] * 255), int(c[2] * 255))


@functools.cache
def _font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for d in FONT_DIRS:
        if (d / name).exists():
            return ImageFont.truetype(str(d / name), size)
    return ImageFont.load_default(size)


def label_image(label: Label, aspect: float, height: int = 384) -> Image.Image:
    """The label as an RGBA image of ``aspect`` (width / height), top row first.

    Args:
        label: what to draw: a user image fitted onto the paper, else the brand text.
        aspect: width / height of the product's label area.
        height: pixel height of the texture.
    """
    width = max(16, int(height * aspect))
    img = Image.new("RGBA", (width, height), (*_rgb(label.color), 255))
    draw = ImageDraw.Draw(img)
    ink = (*_rgb(label.ink), 255)
    if label.image and Path(label.image).exists():
        art = Image.open(label.image)
        if "A" in art.getbands() or "transparency" in art.info:
            # a logo with transparency sits on the label paper
            logo = art.convert("RGBA")
            logo.thumbnail((int(width * 0.8), int(height * 0.8)))
            img.alpha_composite(logo, ((width - logo.width) // 2, (height - logo.height) // 2))
            return img
        # opaque label art covers the whole label area
        return ImageOps.fit(art.convert("RGBA"), (width, height))
    rule = max(2, height // 80)
    for y in (int(height * 0.18), int(height * 0.82)):
        draw.rectangle((int(width * 0.08), y, int(width * 0.92), y + rule), fill=ink)
    text = label.text or ""
    size = int(height * 0.34)
    font = _font(size)
    while size > 8 and draw.textlength(text, font=font) > width * 0.8:
        size = int(size * 0.9)
        font = _font(size)
    if text:
        draw.text((width / 2, height * 0.48), text, fill=ink, font=font, anchor="mm")
        small = _font(max(8, height // 14), bold=False)
        draw.text((width / 2, height * 0.7), "EST. 2026", fill=ink, font=small, anchor="mm")
    return img


def screen_image(label: Label, aspect: float, height: int = 512) -> Image.Image:
    """A phone's lit screen: a wallpaper in the label's colours with the brand and a clock."""
    width = max(16, int(height * aspect))
    top = np.array(_rgb(label.ink), dtype=np.float32)
    bottom = np.array(_rgb(label.color), dtype=np.float32)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    glow = np.exp(-((x * 1.2) ** 2) - ((t - 0.65) * 3.0) ** 2)
    pixels = top * (1 - t) + bottom * t + 60.0 * glow
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGBA")
    draw = ImageDraw.Draw(img)
    light = (245, 245, 248, 255)
    draw.text((width / 2, height * 0.16), "9:41", fill=light, font=_font(height // 9), anchor="mm")
    if label.text:
        draw.text(
            (width / 2, height * 0.5), label.text, fill=light, font=_font(height // 14), anchor="mm"
        )
    return img
