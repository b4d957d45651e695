"""``local/studio-motion``: shots with real camera motion through a studio scene.

``text-to-video`` builds the scene from the prompt as ``local/studio`` does; ``image-to-video``
takes a studio image and re-renders its scene (from the image's ``"scene"`` metadata, which is
why the card says ``needs: scene``). The ``camera`` (or ``action``) field names the move —
orbit, dolly in/out, crane up/down, pan, push-in, static — and ``first_frame`` / ``last_frame``
framings ``{camera, composition, perspective}`` (or studio images) pin where it starts and ends.
Every frame is a render of the same scene, so the shot is consistent by construction.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from podium.catalog.card import ModelCard
from podium.errors import InvalidInput
from podium.media.video import VideoWriter
from podium.providers.base import Event, InputArtifact, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine, check_requirements
from podium.providers.local.scene import Scene, framing_camera, orbit_of
from podium.providers.local.scene.camera import radius
from podium.providers.local.scene.gl import gl_problem
from podium.providers.local.scene.looks import COMPOSITION_WORDS, PERSPECTIVE_WORDS
from podium.providers.local.scene.paths import CameraPath, end_of, move_of
from podium.providers.local.scene.render import render
from podium.providers.local.studio import checked_size, prompt_fields, studio_scene
from podium.spec.vocabulary import ArtifactType, Task

MIN_S, MAX_S = 1.0, 10.0
QUALITIES = ("fast", "best")


def shot_timing(request: Request) -> tuple[float, float, int]:
    """(duration_s, fps, frames) of the shot, refused when out of the card's range."""
    where = f"step {request.step_id} ({request.card.id})"
    try:
        duration = float(request.field("duration_s", 6.0))
        fps = float(request.params.get("fps") or 24)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"duration_s and fps must be numbers: {exc}", where=where) from exc
    if not MIN_S <= duration <= MAX_S:
        raise InvalidInput(
            f"duration_s {duration:g} is outside {MIN_S:g}–{MAX_S:g} s",
            where=where,
            hint="split longer shots into several steps",
        )
    if not 1 <= fps <= 60:
        raise InvalidInput(f"fps {fps:g} is outside 1–60", where=where, hint="use 24 or 30")
    return duration, fps, max(2, round(duration * fps))


def input_scene(artifact: InputArtifact, request: Request, slot: str) -> Scene:
    """The scene a studio image carries, refused for any other image."""
    data = artifact.metadata.get("scene")
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"the {slot} image was not rendered by a studio engine (no scene in its metadata)",
            where=f"step {request.step_id} ({request.card.id})",
            hint="use local/kenburns to move over any still, or make the image with local/studio",
        )
    return Scene.from_dict(dict(data))


def _framing(value: Any) -> Mapping[str, Any] | None:
    """A framing dict, or one read from a phrase such as "close-up from the left, top-down"."""
    if isinstance(value, Mapping):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.lower()
    framing: dict[str, Any] = {"camera": value}
    for key, words in (("composition", COMPOSITION_WORDS), ("perspective", PERSPECTIVE_WORDS)):
        found = [words[w] for w in words if w in text]
        if found:
            framing[key] = found[0]
    return framing


def plan_shot(request: Request, aspect: float) -> tuple[Scene, CameraPath]:
    """The scene and camera path a request asks for."""
    if request.task == Task.IMAGE_TO_VIDEO:
        image = request.single("image")
        if image is None:
            raise InvalidInput("image-to-video needs an `image` input", where=request.step_id)
        scene = input_scene(image, request, "image")
    else:
        first_image = request.single("first_frame")
        scene = (
            input_scene(first_image, request, "first_frame")
            if first_image
            else studio_scene(request)
        )
    start_cam = scene.camera
    first = _framing(request.field("first_frame"))
    if first is not None:
        start_cam = framing_camera(scene.product, first, scene.camera, aspect)
    fields = prompt_fields(request)
    move = move_of(str(fields.get("camera") or fields.get("action") or ""))
    amount = float(request.params.get("motion", 1.0))
    start = orbit_of(start_cam)
    end = end_of(move, start, radius(scene.product), amount)
    last_image = request.single("last_frame")
    last = _framing(request.field("last_frame"))
    if last_image is not None:
        end = orbit_of(input_scene(last_image, request, "last_frame").camera)
    elif last is not None:
        end = orbit_of(framing_camera(scene.product, last, start_cam, aspect))
    easing = str(request.params.get("easing") or "in-out")
    return scene.with_camera(start_cam), CameraPath(move, start, end, easing)


class StudioMotionEngine(Engine):
    """Renders camera moves through a studio scene to H.264."""

    name = "studio-motion"

    def check(self, card: ModelCard) -> str | None:
        """Why it cannot run: a missing package, or no headless GL context here."""
        return check_requirements(card.engine) or gl_problem()

    def run(self, request: Request, report: Reporter) -> Result:
        """Render every frame of the shot and encode ``shot.mp4``."""
        image = request.single("image")
        long_side = 1280
        params = dict(request.params)
        if image is not None and not (params.get("width") or params.get("height")):
            w, h = image.metadata.get("width"), image.metadata.get("height")
            if w and h and not params.get("aspect_ratio"):
                params["aspect_ratio"] = f"{w}:{h}"
                long_side = max(int(w), int(h))
        sized = dataclasses.replace(request, params=params)
        width, height = checked_size(sized, min(long_side, 1920))
        _, fps, frames = shot_timing(request)
        scene, path = plan_shot(sized, width / height)
        quality = str(request.params.get("quality") or "fast")
        if quality not in QUALITIES:
            raise InvalidInput(
                f"quality {quality!r} is not one of {', '.join(QUALITIES)}",
                where=f"step {request.step_id} ({request.card.id})",
            )
        # fast: FXAA and a lighter shadow filter, about a third of the CPU of a still's
        # treatment, written by x264's ultrafast preset (a shot is usually cut and encoded
        # again: 4.5 CPU-ms a 720p frame instead of veryfast's 12.5, at 2.3× the bytes);
        # best: every frame as a still is made (4× MSAA, supersampled when small), veryfast
        best = quality == "best"
        ss = 2 if best and width * height <= 640 * 360 else 1
        report(Event("started", message=f"{path.move} over {frames} frames"))
        out = request.work_dir / "shot.mp4"
        start = time.perf_counter()
        preset, crf = ("veryfast", 18) if best else ("ultrafast", 17)
        with VideoWriter(out, width, height, fps, preset=preset, crf=crf) as writer:
            for i in range(frames):
                orbit = path.at(i / (frames - 1))
                cam = orbit.camera(scene.camera.composition, scene.camera.perspective)
                frame = render(
                    scene.with_camera(cam), width, height, supersample=ss, motion=not best
                )
                writer.write(frame)
                if i % max(1, frames // 10) == 0:
                    report(Event("progress", progress=(i + 1) / frames))
        report(Event("progress", progress=1.0))
        meta = {
            "width": width,
            "height": height,
            "fps": fps,
            "frames": frames,
            "duration_s": frames / fps,
            "camera": path.move,
            "quality": quality,
            "encoder": f"x264 {preset} crf {crf}",
            "scene": scene.to_dict(),
            "render_s": round(time.perf_counter() - start, 3),
        }
        return Result(outputs=[OutputFile(ArtifactType.VIDEO, out, meta)])


ENGINE = StudioMotionEngine()
