"""``local/studio-cycles``: the studio's product shots path-traced by Blender's Cycles.

The same prompt makes the same :class:`~podium.providers.local.scene.Scene` as ``local/studio``
(the scene comes from the studio's own prompt reader), so the product, its materials, the lamps
and the camera match the raster render; what changes is the light transport — real soft
shadows, glass that refracts, reflections of the lamps themselves, light bouncing off the
sweep. Then the raster engine's tonemap and finish are applied, so a mood grades alike.

Blender is optional: :meth:`StudioCyclesEngine.check` says how to install it. Debian
bookworm's Blender 3.4 has no denoiser, so the sample count alone sets the noise.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from podium.catalog.card import ModelCard
from podium.errors import InvalidInput
from podium.media.image import save_png
from podium.providers.base import Event, OutputFile, Reporter, Request, Result
from podium.providers.local.cycles.blender import (
    INSTALL_HINT,
    blender_exe,
    blender_version,
    read_pixels,
    run_job,
)
from podium.providers.local.cycles.film import develop
from podium.providers.local.cycles.job import build_job
from podium.providers.local.engine import Engine, check_requirements
from podium.providers.local.scene import Scene, scene_from_prompt
from podium.providers.local.scene.post import finish
from podium.providers.local.studio import checked_size, studio_scene
from podium.spec.vocabulary import ArtifactType

DEFAULT_SAMPLES = 64
MAX_SAMPLES = 4096


def raster_exposure() -> float:
    """The raster engine's exposure, so both renderers develop alike."""
    from podium.providers.local.scene import render

    return float(getattr(render, "EXPOSURE", 1.0))


def samples_of(request: Request) -> int:
    """The ``samples`` param, checked."""
    raw = request.params.get("samples", DEFAULT_SAMPLES)
    try:
        samples = int(raw)
    except (TypeError, ValueError):
        samples = 0
    if not 1 <= samples <= MAX_SAMPLES:
        raise InvalidInput(
            f"samples must be 1..{MAX_SAMPLES}, not {raw!r}",
            where=f"step {request.step_id} ({request.card.id})",
            hint="64 is a clean 512² product shot; more for glass",
        )
    return samples


def render_cycles(
    scene: Scene,
    width: int,
    height: int,
    *,
    samples: int = DEFAULT_SAMPLES,
    folder: Path,
    timeout_s: float | None = None,
    where: str = "",
) -> NDArray[np.uint8]:
    """Path-trace ``scene`` at ``width``×``height``: the finished 8-bit RGB frame."""
    job = build_job(scene, folder, width=width, height=height, samples=samples)
    spec = run_job(job, timeout_s=timeout_s, where=where)
    rgb = develop(read_pixels(spec), scene, raster_exposure())
    return finish(rgb, None, scene, (width, height))


def render_mask(scene: Scene, width: int, height: int, *, folder: Path) -> NDArray[np.bool_]:
    """Where the product covers the frame in Cycles' camera (a few samples, no floor)."""
    job = build_job(scene, folder, width=width, height=height, samples=4, mask_only=True)
    alpha = read_pixels(run_job(job, timeout_s=300))[..., 3]
    return np.asarray(alpha > 0.5)


class StudioCyclesEngine(Engine):
    """Path-traces studio scenes with Blender (CPU Cycles)."""

    name = "studio-cycles"

    def check(self, card: ModelCard) -> str | None:
        """Why it cannot run here: Blender (optional) or a Python package missing."""
        if blender_exe() is None:
            return f"Blender is not installed ({INSTALL_HINT})"
        return check_requirements(card.engine)

    def run(self, request: Request, report: Reporter) -> Result:
        """Render the still and write ``image.png``."""
        width, height = checked_size(request)
        samples = samples_of(request)
        scene = studio_scene(request)
        report(Event("started", message=f"Cycles: {scene.product.kind}, {samples} samples"))
        start = time.perf_counter()
        pixels = render_cycles(
            scene,
            width,
            height,
            samples=samples,
            folder=request.work_dir / "cycles",
            timeout_s=request.timeout_s,
            where=f"step {request.step_id} ({request.card.id})",
        )
        out = save_png(pixels, request.work_dir / "image.png")
        report(Event("progress", progress=1.0))
        exe = blender_exe()
        meta: dict[str, Any] = {
            "width": width,
            "height": height,
            "scene": scene.to_dict(),
            "renderer": "cycles",
            "samples": samples,
            "blender": blender_version(exe) if exe else None,
            "render_s": round(time.perf_counter() - start, 3),
        }
        return Result(outputs=[OutputFile(ArtifactType.IMAGE, out, meta)])


ENGINE = StudioCyclesEngine()

BENCH_PROMPT = {"subject": "a glass bottle", "lighting": "softbox", "background": "sweep"}


def bench_cycles_512(samples: int = DEFAULT_SAMPLES) -> float | None:
    """Seconds for one 512×512 Cycles render at ``samples`` (Blender start-up included), or
    ``None`` when Blender is not installed. For ``bench/render.py``'s ``cycles_s_512``."""
    if blender_exe() is None:
        return None
    scene = scene_from_prompt(BENCH_PROMPT, {"aspect_ratio": "1:1"}, 0)
    with tempfile.TemporaryDirectory(prefix="podium-cycles-") as tmp:
        start = time.perf_counter()
        render_cycles(scene, 512, 512, samples=samples, folder=Path(tmp))
        return round(time.perf_counter() - start, 3)
