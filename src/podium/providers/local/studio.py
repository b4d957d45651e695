"""``local/studio``: product shots rendered from the structured prompt with moderngl (GL raster).

The prompt is a specification: ``subject`` picks one of the product library's shapes,
``material``, ``lighting``, ``background``, ``composition``, ``perspective``, ``style`` and ``mood``
pick from the studio's vocabulary, ``text`` is the brand on the label and a ``label`` input is
mapped onto the product. The image's metadata carries its scene (``"scene"``), so
``local/studio-motion`` can move a camera through the very same set.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from podium.catalog.card import ModelCard
from podium.errors import InvalidInput
from podium.media.image import save_png
from podium.providers.base import Event, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine, check_requirements
from podium.providers.local.scene import Scene, frame_size, scene_from_prompt
from podium.providers.local.scene.gl import gl_problem
from podium.providers.local.scene.render import render
from podium.spec.vocabulary import ArtifactType

MAX_SIDE = 4096


def prompt_fields(request: Request) -> Mapping[str, Any]:
    """The structured prompt of a request (a plain string is the subject)."""
    if isinstance(request.prompt, Mapping):
        return request.prompt
    if isinstance(request.prompt, str):
        return {"subject": request.prompt}
    return {}


def checked_size(request: Request, long_side: int = 1024) -> tuple[int, int]:
    """The output size the params ask for, refused when it is out of range."""
    try:
        width, height = frame_size(request.params, long_side)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"width/height/aspect_ratio are not numbers: {exc}",
            where=f"step {request.step_id}",
            hint='use e.g. aspect_ratio: "16:9" or width: 1280',
        ) from exc
    if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise InvalidInput(
            f"{width}×{height} is outside 16..{MAX_SIDE} pixels a side",
            where=f"step {request.step_id} ({request.card.id})",
            hint="ask for a smaller width/height",
        )
    return width, height


def studio_scene(request: Request) -> Scene:
    """The scene a text-to-image request describes (its ``label`` input mapped on)."""
    params = dict(request.params)
    label = request.single("label")
    if label is not None:
        params["label_image"] = str(label.path)
    return scene_from_prompt(prompt_fields(request), params, request.seed)


class StudioEngine(Engine):
    """Renders product shots with moderngl on Mesa (EGL, llvmpipe when there is no GPU)."""

    name = "studio"

    def check(self, card: ModelCard) -> str | None:
        """Why it cannot run: a missing package, or no headless GL context here."""
        return check_requirements(card.engine) or gl_problem()

    def run(self, request: Request, report: Reporter) -> Result:
        """Render the still and write ``image.png``."""
        width, height = checked_size(request)
        scene = studio_scene(request)
        report(Event("started", message=f"{scene.product.kind} in {scene.lighting.preset} light"))
        start = time.perf_counter()
        pixels = render(scene, width, height, supersample=2 if width * height <= 2**21 else 1)
        out = save_png(pixels, request.work_dir / "image.png")
        report(Event("progress", progress=1.0))
        meta = {
            "width": width,
            "height": height,
            "scene": scene.to_dict(),
            "renderer": "raster",
            "render_s": round(time.perf_counter() - start, 4),
        }
        return Result(outputs=[OutputFile(ArtifactType.IMAGE, out, meta)])


ENGINE = StudioEngine()
