"""Raster speed of the studio: frames per second at 720p, as local/studio-motion renders them.

Workload: ``{"subject": "a frosted glass perfume bottle", "lighting": "softbox", "background":
"studio sweep"}`` (seed 0) rendered at 1280×720 with the key light's PCF shadow map, the floor
reflection, anti-aliasing and the finish (mood grade, vignette), read back to numpy — 48 frames
of a 75° orbit, each frame its own camera. Warm: one frame is rendered first (context,
programs, meshes, label texture). Nothing is encoded; ``encode_fps_720p`` adds H.264.

Figures:

- ``raster_fps_720p``: the figure of the issue (goal ≥ 24, real time): frames as a moving shot
  renders them (``render(..., motion=True)``) — shadows (4-compare PCF on the product, the
  floor's colour baked once per shot with all 8), the reflection, FXAA where the product's
  edges are, the grade; nothing encoded. Real time is a video's concern: a still is not
  watched at 24 frames a second, so stills spend more on each frame (next figure).
- ``still_raster_fps_720p``: the same frames made as stills are (4× MSAA, 8-compare PCF, the
  floor lit per pixel, no supersampling).
- ``draw_fps_720p``: the moving frames' GL passes and read-back only, without the numpy finish.
- ``no_shadow_fps_720p`` and ``shadow_cost``: moving frames without shadows, and the ratio — the
  baseline the shadow map is measured against on this machine.
- ``encode_fps_720p``: moving frames plus H.264 encoding (CRF 18, veryfast), as a shot is
  written.
- ``motion_fps_720p``: the whole local/studio-motion path, engine run to MP4 (scene, camera
  path, every frame rendered as shots render them, H.264 encode, file closed): a 2 s 24 fps
  1280×720 orbit of the promo's hero (``MOTION_PROMPT``), warm; ``motion_cpu_ms`` is the CPU
  it took per frame, this process (GL, llvmpipe's threads) and ffmpeg together — the figure to
  read on a loaded machine, since wall time there depends on the neighbours.
- ``still_1024_s``: one 1024×576 still as local/studio makes it (2× supersampled, PNG written).
- ``cycles_s_512``: one 512² Cycles render by local/studio-cycles, only when Blender is here.
- ``renderer``, ``cpus``, ``load_avg``: what ran it — Mesa's llvmpipe shares the CPU with
  whatever else is running, so read the figures beside the load average.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from podium.catalog.card import ModelCard
from podium.media.image import save_png
from podium.media.video import VideoWriter
from podium.providers.base import Event, Request
from podium.providers.local.engine import load_engine
from podium.providers.local.scene import Scene, orbit_of, scene_from_prompt
from podium.providers.local.scene.camera import radius
from podium.providers.local.scene.gl import context
from podium.providers.local.scene.paths import CameraPath, end_of
from podium.providers.local.scene.render import _draw, render
from podium.spec.vocabulary import TASK_OUTPUTS, Task

PROMPT = {
    "subject": "a frosted glass perfume bottle",
    "lighting": "softbox",
    "background": "studio sweep",
}
W, H, FRAMES = 1280, 720, 48
MOTION_PROMPT = {
    "subject": "a glass bottle with a printed label",
    "text": "Lemon Soda",
    "material": "glass",
    "background": "studio sweep",
    "lighting": "softbox",
    "mood": "fresh and bright",
    "camera": "orbit",
    "duration_s": 2,
}


def frames_of(scene: Scene) -> list[Scene]:
    """The orbit's frames as scenes."""
    start = orbit_of(scene.camera)
    path = CameraPath("orbit", start, end_of("orbit", start, radius(scene.product)))
    cams = [path.at(i / (FRAMES - 1)) for i in range(FRAMES)]
    return [scene.with_camera(c.camera(scene.camera.composition, "three-quarter")) for c in cams]


def fps(scenes: list[Scene], draw_only: bool = False, motion: bool = True) -> float:
    """Frames per second rendering ``scenes`` in turn (``motion``: as shots render them;
    otherwise as stills are)."""
    render(scenes[0], W, H, motion=motion)
    start = time.perf_counter()
    for s in scenes:
        if draw_only:
            _draw(s, W, H, motion=motion)
        else:
            render(s, W, H, motion=motion)
    return len(scenes) / (time.perf_counter() - start)


def encode_fps(scenes: list[Scene]) -> float:
    """Frames per second rendering moving frames and encoding them to H.264."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with VideoWriter(Path(tmp) / "shot.mp4", W, H, 24) as writer:
            for s in scenes:
                writer.write(render(s, W, H, motion=True))
        return len(scenes) / (time.perf_counter() - start)


def _cpu() -> float:
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def motion_figures() -> tuple[float, float]:
    """(frames per second, CPU ms per frame) of local/studio-motion writing a 720p orbit."""
    engine = load_engine("studio-motion")
    assert engine is not None
    with tempfile.TemporaryDirectory() as tmp:

        def request(n: int) -> Request:
            work = Path(tmp) / f"job{n}"
            work.mkdir()
            return Request(
                step_id=f"bench{n}",
                task=Task.TEXT_TO_VIDEO,
                card=ModelCard(id="local/studio-motion", tasks=(Task.TEXT_TO_VIDEO,)),
                prompt=MOTION_PROMPT,
                prompt_text="",
                inputs={},
                params={"width": W, "height": H, "fps": 24},
                seed=7,
                outputs=TASK_OUTPUTS[Task.TEXT_TO_VIDEO],
                work_dir=work,
                idempotency_key=f"bench{n}",
            )

        engine.run(
            dataclasses.replace(request(0), prompt={**MOTION_PROMPT, "duration_s": 1}), _quiet
        )
        cpu, start = _cpu(), time.perf_counter()
        result = engine.run(request(1), _quiet)
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
        frames = int(result.outputs[0].metadata["frames"])
    return frames / wall, cpu / frames * 1000


def _quiet(event: Event) -> None:
    del event


def still_seconds() -> float:
    """One 1024×576 still, supersampled and written, as local/studio does (warm)."""
    scene = scene_from_prompt(PROMPT, {"width": 1024, "height": 576}, 1)
    render(scene, 1024, 576, supersample=2)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        save_png(render(scene, 1024, 576, supersample=2), Path(tmp) / "image.png")
        return time.perf_counter() - start


def cycles_seconds() -> float | None:
    """The path tracer's 512² figure, when its engine is installed and reports one."""
    try:
        from podium.providers.local import studio_cycles
    except ImportError:
        return None
    hook = getattr(studio_cycles, "bench_cycles_512", None)
    return hook() if callable(hook) else None


def main() -> dict[str, Any]:
    """Run the benchmark; returns its JSON figures."""
    load = os.getloadavg()[0]
    ctx = context()
    scene = scene_from_prompt(PROMPT, {"width": W, "height": H}, 0)
    scenes = frames_of(scene)
    raster = fps(scenes)
    still = fps(scenes, motion=False)
    draw = fps(scenes, draw_only=True)
    flat = fps([dataclasses.replace(s, shadows=False) for s in scenes])
    motion_fps, motion_cpu = motion_figures()
    result: dict[str, Any] = {
        "bench": "render",
        "workload": f"{W}x{H}, {FRAMES}-frame orbit, shadows+reflection+grade: {PROMPT}",
        "raster_fps_720p": round(raster, 2),
        "still_raster_fps_720p": round(still, 2),
        "draw_fps_720p": round(draw, 2),
        "no_shadow_fps_720p": round(flat, 2),
        "shadow_cost": round(flat / raster, 3),
        "encode_fps_720p": round(encode_fps(scenes), 2),
        "still_1024_s": round(still_seconds(), 3),
        "motion_fps_720p": round(motion_fps, 2),
        "motion_cpu_ms": round(motion_cpu, 1),
        "goal_fps": 24,
        "renderer": ctx.info["GL_RENDERER"],
        "cpus": os.cpu_count(),
        "load_avg": round(load, 2),
    }
    cycles = cycles_seconds()
    if cycles is not None:
        result["cycles_s_512"] = cycles
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
