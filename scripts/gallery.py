"""Write the studio's contact sheets into docs/gallery/ (``make gallery``).

Every product, every lighting preset, every perspective, composition, style, background and
mood, the grades, and the first / middle / last frames of each camera path — small PNGs kept in
the repository so anyone can see what the offline visual engines make. Each sheet is rendered
fresh; the whole gallery stays under 3 MB.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from podium.providers.local.grade import GRADES
from podium.providers.local.scene import Scene, orbit_of, scene_from_prompt
from podium.providers.local.scene.camera import radius
from podium.providers.local.scene.looks import LIGHTING_WORDS, MOODS
from podium.providers.local.scene.paths import MOVES, CameraPath, end_of
from podium.providers.local.scene.post import grade_image
from podium.providers.local.scene.products import KINDS
from podium.providers.local.scene.render import render

OUT = Path(__file__).resolve().parent.parent / "docs" / "gallery"
TILE = (256, 144)
CAPTION = 18
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(FONT, 12) if Path(FONT).exists() else ImageFont.load_default()


def sheet(tiles: Sequence[tuple[str, np.ndarray]], columns: int, path: Path) -> None:
    """Lay captioned tiles out in a grid and write a PNG."""
    w, h = TILE
    rows = (len(tiles) + columns - 1) // columns
    img = Image.new("RGB", (columns * w, rows * (h + CAPTION)), (24, 24, 26))
    draw = ImageDraw.Draw(img)
    font = _font()
    for i, (caption, pixels) in enumerate(tiles):
        x, y = (i % columns) * w, (i // columns) * (h + CAPTION)
        img.paste(Image.fromarray(pixels).resize(TILE), (x, y))
        draw.text((x + 4, y + h + 2), caption, fill=(225, 225, 225), font=font)
    img.save(path, optimize=True)
    kb = path.stat().st_size // 1024
    print(f"{path.relative_to(OUT.parent.parent)}: {len(tiles)} tiles, {kb} KB")


def still(prompt: dict[str, str], seed: int = 3) -> np.ndarray:
    """A studio still at tile size."""
    return render(
        scene_from_prompt(prompt, {"width": TILE[0], "height": TILE[1]}, seed), *TILE, supersample=2
    )


def products() -> list[tuple[str, np.ndarray]]:
    """Every product of the library in its default material."""
    return [
        (kind, still({"subject": f"a {kind}", "lighting": "softbox"}, seed=i))
        for i, kind in enumerate(KINDS)
    ]


def lightings() -> list[tuple[str, np.ndarray]]:
    """Every lighting preset on one product."""
    presets = dict.fromkeys(LIGHTING_WORDS.values())
    return [(p, still({"subject": "a perfume", "lighting": p.replace("-", " ")})) for p in presets]


def framings() -> list[tuple[str, np.ndarray]]:
    """Perspectives, compositions and styles."""
    out = []
    for p in ("eye level", "three-quarter", "top-down", "isometric", "low angle"):
        out.append((p, still({"subject": "a can", "perspective": p})))
    for c in ("close-up", "medium", "wide"):
        out.append((c, still({"subject": "a mug", "composition": c})))
    for s in ("realistic", "cinematic", "minimal", "toon"):
        out.append((s, still({"subject": "a jar", "style": s, "lighting": "window"})))
    return out


def looks() -> list[tuple[str, np.ndarray]]:
    """Backgrounds, moods and materials."""
    out = []
    for b in ("solid", "gradient", "studio sweep", "environment"):
        out.append((b, still({"subject": "a bottle", "background": b, "lighting": "window"})))
    for m in MOODS:
        out.append((m, still({"subject": "a tube", "mood": m})))
    for mat in ("glass", "brushed metal", "matte plastic", "gloss plastic", "ceramic", "paper"):
        prompt = {"subject": "a mug", "material": mat, "negative": "no label"}
        out.append((mat, still({**prompt, "lighting": "softbox"})))
    return out


def grades() -> list[tuple[str, np.ndarray]]:
    """Each grade of local/grade applied to one still."""
    base = still({"subject": "a can", "lighting": "golden hour", "background": "environment"})
    src = base.astype(np.float32) / 255.0
    out = [("original", base)]
    for name, g in GRADES.items():
        out.append((name, (grade_image(src, g) * 255 + 0.5).astype(np.uint8)))
    return out


def motion() -> list[tuple[str, np.ndarray]]:
    """First, middle and last frames of every camera path."""
    scene: Scene = scene_from_prompt(
        {"subject": "a bottle", "lighting": "three-point"}, {"width": TILE[0], "height": TILE[1]}, 3
    )
    out = []
    start = orbit_of(scene.camera)
    for move in MOVES:
        path = CameraPath(move, start, end_of(move, start, radius(scene.product)))
        for t, tag in ((0.0, "first"), (0.5, "middle"), (1.0, "last")):
            cam = path.at(t).camera(scene.camera.composition, scene.camera.perspective)
            frame = render(dataclasses.replace(scene, camera=cam), *TILE, supersample=2)
            out.append((f"{move} · {tag}", frame))
    return out


SHEETS: dict[str, tuple[Callable[[], list[tuple[str, np.ndarray]]], int]] = {
    "products": (products, 5),
    "lighting": (lightings, 3),
    "framing-and-style": (framings, 4),
    "backgrounds-moods-materials": (looks, 5),
    "grades": (grades, 3),
    "camera-paths": (motion, 6),
}


def main(names: Sequence[str]) -> int:
    """Write the named sheets (all of them when none are named)."""
    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name in names or SHEETS:
        build, columns = SHEETS[name]
        sheet(build(), columns, OUT / f"{name}.png")
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"gallery: {total / 1e6:.2f} MB in {time.perf_counter() - start:.1f} s")
    return 0 if total < 3e6 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
