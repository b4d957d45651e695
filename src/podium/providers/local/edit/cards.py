"""End cards and caption overlays drawn with Pillow as transparent PNGs.

Text is drawn here rather than with ffmpeg's ``drawtext`` so the result does not depend on the
fonts fontconfig happens to find: DejaVu Sans when installed, else Pillow's own scalable font.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from podium.errors import InvalidInput

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def font(size: int, bold: bool = True) -> Font:
    """A font of ``size`` pixels."""
    paths = FONT_CANDIDATES if bold else FONT_CANDIDATES[::-1]
    for path in paths:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def parse_color(value: str | None, default: str = "#1f6feb") -> tuple[int, int, int]:
    """``"#ffcc00"`` / ``"ffcc00"`` / ``"#fc0"`` -> RGB."""
    text = (value or default).strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if not re.fullmatch(r"[0-9a-fA-F]{6}", text):
        raise InvalidInput(
            f"brand_color {value!r} is not a hex colour",
            hint='write it as "#RRGGBB", e.g. "#f5c518"',
        )
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def _wrap(draw: ImageDraw.ImageDraw, text: str, fnt: Font, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=fnt) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _text_block(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    fnt: Font,
    centre_x: int,
    top: int,
    fill: tuple[int, ...],
    spacing: float = 1.2,
) -> int:
    size = getattr(fnt, "size", 16)
    y = top
    for ln in lines:
        w = draw.textlength(ln, font=fnt)
        draw.text((centre_x - w / 2, y), ln, font=fnt, fill=fill)
        y += int(size * spacing)
    return y


def _contrast(rgb: tuple[int, int, int]) -> tuple[int, int, int, int]:
    luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return (20, 20, 20, 255) if luma > 150 else (255, 255, 255, 255)


@dataclass(frozen=True)
class EndCard:
    """What the end card says and shows."""

    headline: str
    call_to_action: str = ""
    brand_color: str | None = None
    logo: Path | None = None


def draw_end_card(card: EndCard, size: tuple[int, int], out: Path, *, overlay: bool) -> Path:
    """Draw the end card as a PNG of ``size``.

    Args:
        card: texts, colour and logo.
        size: frame size.
        out: PNG path to write.
        overlay: a translucent band over the last shot (True) or a full brand-colour frame.
    """
    w, h = size
    rgb = parse_color(card.brand_color)
    img = Image.new("RGBA", size, (0, 0, 0, 0) if overlay else (*rgb, 255))
    draw = ImageDraw.Draw(img)
    if overlay:
        band_top = int(h * 0.58)
        draw.rectangle((0, band_top, w, h), fill=(*rgb, 215))
        top = band_top + int(h * 0.05)
    else:
        top = int(h * 0.30)
    fg = _contrast(rgb)
    short = min(w, h)
    if card.logo is not None and card.logo.exists():
        logo = Image.open(card.logo).convert("RGBA")
        box = int(short * 0.22)
        logo.thumbnail((box, box))
        lx = (w - logo.width) // 2
        ly = max(8, top - logo.height - int(short * 0.04)) if not overlay else int(h * 0.08)
        img.alpha_composite(logo, (lx, ly))
    head = font(max(18, int(short * 0.085)))
    lines = _wrap(draw, card.headline, head, int(w * 0.86))
    y = _text_block(draw, lines, head, w // 2, top, fg)
    if card.call_to_action:
        cta_font = font(max(14, int(short * 0.05)), bold=False)
        cta_lines = _wrap(draw, card.call_to_action, cta_font, int(w * 0.8))
        pad = int(short * 0.02)
        text_w = max(draw.textlength(ln, font=cta_font) for ln in cta_lines)
        line_h = int(getattr(cta_font, "size", 16) * 1.2)
        y += int(short * 0.03)
        pill: tuple[float, float, float, float] = (
            w / 2 - text_w / 2 - 2 * pad,
            y - pad,
            w / 2 + text_w / 2 + 2 * pad,
            y + line_h * len(cta_lines) + pad,
        )
        draw.rounded_rectangle(pill, radius=pad * 2, fill=fg)
        _text_block(draw, cta_lines, cta_font, w // 2, y, (*rgb, 255))
    img.save(out)
    return out


def draw_caption(text: str, size: tuple[int, int], out: Path) -> tuple[Path, int, int]:
    """Draw one caption as a PNG sized to its text; return (path, x, y) to overlay it at."""
    w, h = size
    short = min(w, h)
    fnt = font(max(14, int(short * 0.045)))
    scratch = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    lines = _wrap(scratch, text, fnt, int(w * 0.86))
    line_h = int(getattr(fnt, "size", 16) * 1.25)
    text_w = int(max(scratch.textlength(ln, font=fnt) for ln in lines)) if lines else 1
    pad = max(6, int(short * 0.012))
    img = Image.new("RGBA", (text_w + 4 * pad, line_h * max(1, len(lines)) + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, img.width - 1, img.height - 1), radius=pad, fill=(0, 0, 0, 160))
    _text_block(draw, lines, fnt, img.width // 2, pad, (255, 255, 255, 255), spacing=1.25)
    img.save(out)
    x = (w - img.width) // 2
    y = int(h * 0.86) - img.height
    return out, x, y
