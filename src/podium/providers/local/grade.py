"""``local/grade``: image-to-image colour grades — cinematic, noir, pastel, vivid, warm, cool,
vintage, bleach.

The grade is the ``grade`` param, else the first grade named in ``style`` or ``mood``; ``strength``
(0..1) mixes it with the original. The maths is the studio's own finish
(:func:`podium.providers.local.scene.post.grade_image`), so a graded still and a studio mood agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from podium.errors import InvalidInput
from podium.media.image import load_rgb, save_png
from podium.providers.base import OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.providers.local.scene.post import Grade, grade_image
from podium.spec.vocabulary import ArtifactType

GRADES: dict[str, Grade] = {
    "cinematic": Grade(
        saturation=0.9,
        contrast=1.12,
        vignette=0.3,
        split=((-0.05, 0.02, 0.08), (0.08, 0.02, -0.06)),
    ),
    "noir": Grade(saturation=0.0, contrast=1.35, gamma=1.1, vignette=0.4),
    "pastel": Grade(saturation=0.55, contrast=0.78, lift=(0.14, 0.12, 0.14), gamma=0.85),
    "vivid": Grade(saturation=1.5, contrast=1.12),
    "warm": Grade(tint=(1.1, 1.0, 0.84), saturation=1.05),
    "cool": Grade(tint=(0.88, 0.98, 1.12), saturation=0.95),
    "vintage": Grade(
        tint=(1.06, 1.0, 0.85),
        saturation=0.7,
        contrast=0.85,
        lift=(0.08, 0.06, 0.03),
        vignette=0.35,
    ),
    "bleach": Grade(saturation=0.45, contrast=1.3),
}
ALIASES = {
    "film": "cinematic",
    "movie": "cinematic",
    "teal": "cinematic",
    "black and white": "noir",
    "monochrome": "noir",
    "b&w": "noir",
    "soft": "pastel",
    "punchy": "vivid",
    "vibrant": "vivid",
    "golden": "warm",
    "retro": "vintage",
    "faded": "vintage",
}


def grade_name(request: Request) -> str:
    """The grade a request asks for (``cinematic`` when it names none)."""
    explicit = request.params.get("grade")
    if explicit:
        name = str(explicit).lower()
        if name not in GRADES:
            raise InvalidInput(
                f"unknown grade {name!r}",
                where=f"step {request.step_id} ({request.card.id})",
                hint="one of " + ", ".join(GRADES),
            )
        return name
    prompt: Mapping[str, Any] = request.prompt if isinstance(request.prompt, Mapping) else {}
    text = " ".join(str(prompt.get(k) or "") for k in ("style", "mood", "subject")).lower()
    if isinstance(request.prompt, str):
        text = request.prompt.lower()
    # the grade named first wins: "black and white film" is noir
    found = [(text.find(w), -len(w), w) for w in (*GRADES, *ALIASES) if w in text]
    return ALIASES.get(min(found)[2], min(found)[2]) if found else "cinematic"


class GradeEngine(Engine):
    """Colour-grades a still."""

    name = "grade"

    def run(self, request: Request, report: Reporter) -> Result:
        """Write the graded ``image.png`` at the input's size."""
        image = request.single("image")
        if image is None:
            raise InvalidInput("image-to-image needs an `image` input", where=request.step_id)
        name = grade_name(request)
        strength = float(request.params.get("strength", 1.0))
        src = load_rgb(image.path).astype(np.float32) / 255.0
        graded = grade_image(src, GRADES[name])
        out = src + (graded - src) * min(1.0, max(0.0, strength))
        pixels = (np.clip(out, 0, 1) * 255.0 + 0.5).astype(np.uint8)
        path = save_png(pixels, request.work_dir / "image.png")
        # no "scene" passed on: a studio re-render of it would lose the grade
        meta: dict[str, Any] = {"width": pixels.shape[1], "height": pixels.shape[0], "grade": name}
        return Result(outputs=[OutputFile(ArtifactType.IMAGE, path, meta)])


ENGINE = GradeEngine()
