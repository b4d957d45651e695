"""``local/kenburns``: image-to-video for any still — zoom, pan and parallax between framings.

A framing is a crop of the still: ``composition`` sets the zoom (wide = the whole picture,
medium 1.3×, close-up 1.8×), ``camera`` the side it leans to (``left``, ``right``, ``top``,
``bottom``, ``centre``). The ``camera`` (or ``action``) field names the move — zoom in (the
default), zoom out, pan left/right/up/down, parallax — and ``first_frame``/``last_frame`` pin its
ends. Parallax warps near parts (a rough depth guess: what differs from the border, and the
lower half) further than far ones; its end frames are then not plain crops.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from podium.errors import InvalidInput
from podium.media.image import load_rgb
from podium.media.video import VideoWriter
from podium.providers.base import Event, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.providers.local.scene.paths import ease
from podium.providers.local.studio import checked_size, prompt_fields
from podium.providers.local.studio_motion import shot_timing
from podium.spec.vocabulary import ArtifactType

ZOOM = {"wide": 1.0, "medium": 1.3, "close-up": 1.8}
SIDE = {
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top": (0.5, 0.0),
    "up": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "down": (0.5, 1.0),
    "centre": (0.5, 0.5),
    "center": (0.5, 0.5),
}


@dataclass(frozen=True)
class Crop:
    """A framing of the still.

    Attributes:
        zoom: 1 = the largest crop of the output's aspect that fits the still.
        cx: where the crop sits across the room it has, 0 (left) .. 1 (right).
        cy: the same, 0 (top) .. 1 (bottom).
    """

    zoom: float
    cx: float = 0.5
    cy: float = 0.5

    def rect(self, src: tuple[int, int], aspect: float) -> tuple[float, float, float, float]:
        """(x, y, width, height) of the crop in the still's pixels."""
        sw, sh = src
        w = min(sw, sh * aspect) / self.zoom
        h = w / aspect
        return ((sw - w) * self.cx, (sh - h) * self.cy, w, h)


def crop_of(framing: Mapping[str, Any] | None, default: Crop) -> Crop:
    """The crop a ``{camera, composition}`` framing names (``default`` fills the gaps)."""
    if not framing:
        return default
    zoom = ZOOM.get(str(framing.get("composition") or "").lower().replace(" ", "-"), default.zoom)
    cx, cy = default.cx, default.cy
    side = str(framing.get("camera") or "").lower()
    for word, (x, y) in SIDE.items():
        if word in side:
            cx, cy = x, y
            break
    return Crop(zoom, cx, cy)


def moves(text: str) -> tuple[Crop, Crop, float]:
    """(start, end, parallax) of a named move."""
    t = text.lower()
    if "out" in t:
        return Crop(1.35), Crop(1.0), 0.0
    if "pan" in t or "truck" in t:
        if "left" in t:
            return Crop(1.3, 1.0), Crop(1.3, 0.0), 0.0
        if "up" in t:
            return Crop(1.3, 0.5, 1.0), Crop(1.3, 0.5, 0.0), 0.0
        if "down" in t:
            return Crop(1.3, 0.5, 0.0), Crop(1.3, 0.5, 1.0), 0.0
        return Crop(1.3, 0.0), Crop(1.3, 1.0), 0.0
    if "parallax" in t or "3d" in t:
        return Crop(1.1, 0.4), Crop(1.25, 0.6), 1.0
    return Crop(1.0), Crop(1.35), 0.0


def crop_frame(
    src: NDArray[np.uint8],
    crop: Crop,
    size: tuple[int, int],
    flow: NDArray[np.float32] | None = None,
) -> NDArray[np.uint8]:
    """One output frame: ``crop`` of ``src`` scaled to ``size``, warped by ``flow`` if given."""
    w, h = size
    x, y, cw, ch = crop.rect((src.shape[1], src.shape[0]), w / h)
    sx, sy = cw / w, ch / h
    if flow is None:
        # pixel centres map to pixel centres; area-average when shrinking
        m = np.array([[sx, 0, x + 0.5 * sx - 0.5], [0, sy, y + 0.5 * sy - 0.5]], dtype=np.float64)
        interp = cv2.INTER_AREA if sx > 1.5 else cv2.INTER_LINEAR
        if interp == cv2.INTER_AREA:
            part = src[int(y) : math.ceil(y + ch), int(x) : math.ceil(x + cw)]
            return np.asarray(cv2.resize(part, size, interpolation=cv2.INTER_AREA))
        return np.asarray(
            cv2.warpAffine(
                src,
                m,
                size,
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REFLECT,
            )
        )
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = x + (gx + 0.5) * sx - 0.5 + flow[..., 0]
    map_y = y + (gy + 0.5) * sy - 0.5 + flow[..., 1]
    return np.asarray(cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))


def nearness(src: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.float32]:
    """A rough depth guess at ``size``: 1 near, 0 far (unlike the border, and low in frame)."""
    small = cv2.resize(src, (96, max(8, round(96 * src.shape[0] / src.shape[1])))).astype(
        np.float32
    )
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    ref = np.median(border, axis=0)
    diff = np.linalg.norm(small - ref, axis=-1)
    diff = diff / max(float(diff.max()), 1e-6)
    rows = np.linspace(0.0, 1.0, small.shape[0], dtype=np.float32)[:, None]
    guess = np.clip(0.7 * diff + 0.3 * rows, 0, 1)
    guess = cv2.GaussianBlur(guess, (0, 0), 3)
    return np.asarray(cv2.resize(guess, size, interpolation=cv2.INTER_LINEAR), dtype=np.float32)


class KenBurnsEngine(Engine):
    """Moves a virtual camera over any still."""

    name = "kenburns"

    def run(self, request: Request, report: Reporter) -> Result:
        """Write ``shot.mp4`` moving from the first framing to the last."""
        image = request.single("image")
        if image is None:
            raise InvalidInput("image-to-video needs an `image` input", where=request.step_id)
        src = load_rgb(image.path)
        params = dict(request.params)
        if not (params.get("width") or params.get("height") or params.get("aspect_ratio")):
            params["aspect_ratio"] = f"{src.shape[1]}:{src.shape[0]}"
        long_side = min(1920, max(src.shape[:2]))
        sized = dataclasses.replace(request, params=params)
        width, height = checked_size(sized, long_side)
        _, fps, frames = shot_timing(request)
        fields = prompt_fields(request)
        start, end, parallax = moves(str(fields.get("camera") or fields.get("action") or ""))
        start = crop_of(_framing(request.field("first_frame")), start)
        end = crop_of(_framing(request.field("last_frame")), end)
        parallax *= float(params.get("parallax", 1.0))
        near = nearness(src, (width, height)) - 0.5 if parallax else None
        easing = str(params.get("easing") or "in-out")
        report(Event("started", message=f"{frames} frames"))
        out = request.work_dir / "shot.mp4"
        t0 = time.perf_counter()
        with VideoWriter(out, width, height, fps) as writer:
            for i in range(frames):
                k = ease(i / (frames - 1), easing)
                crop = Crop(
                    math.exp(
                        math.log(start.zoom) + (math.log(end.zoom) - math.log(start.zoom)) * k
                    ),
                    start.cx + (end.cx - start.cx) * k,
                    start.cy + (end.cy - start.cy) * k,
                )
                flow = None
                if near is not None:
                    shift = (k - 0.5) * parallax * width * 0.03
                    flow = np.stack([near * -shift, near * -shift * 0.3], axis=-1)
                writer.write(crop_frame(src, crop, (width, height), flow))
                if i % max(1, frames // 10) == 0:
                    report(Event("progress", progress=(i + 1) / frames))
        meta = {
            "width": width,
            "height": height,
            "fps": fps,
            "frames": frames,
            "duration_s": frames / fps,
            "render_s": round(time.perf_counter() - t0, 3),
        }
        return Result(outputs=[OutputFile(ArtifactType.VIDEO, out, meta)])


def _framing(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip():
        return {"camera": value, "composition": value}
    return None


ENGINE = KenBurnsEngine()
