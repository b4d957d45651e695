"""The finish of a frame: depth of field, downsampling, the mood's grade, vignette, letterbox.

Everything here is numpy/OpenCV on float RGB in 0..1 (display space). :func:`grade_image` is
also the ``local/grade`` engine's core, so a studio mood and a grade step speak one language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from podium.providers.local.scene.camera import radius
from podium.providers.local.scene.model import Scene

Image = NDArray[np.float32]
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


@dataclass(frozen=True)
class Grade:
    """A colour grade.

    Attributes:
        tint: per-channel gain.
        saturation: 1 keeps, 0 greys.
        contrast: around mid grey; 1 keeps.
        lift: added to the shadows (per channel).
        gamma: midtone power (below 1 brightens).
        vignette: corner darkening 0..1.
        split: (shadow tint, highlight tint) added, for teal-and-orange looks.
    """

    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    contrast: float = 1.0
    lift: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gamma: float = 1.0
    vignette: float = 0.0
    split: tuple[tuple[float, float, float], tuple[float, float, float]] | None = None


def saturate(img: Image, amount: float) -> Image:
    """Scale saturation around each pixel's luma."""
    luma = (img @ LUMA)[..., None]
    return (luma + (img - luma) * amount).astype(np.float32)


def vignette(img: Image, amount: float) -> Image:
    """Darken towards the corners."""
    if amount <= 0:
        return img
    h, w = img.shape[:2]
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    r2 = x * x + y * y
    return (img * (1.0 - amount * np.clip(r2 - 0.35, 0, None) * 0.75)[..., None]).astype(np.float32)


def grade_image(img: Image, g: Grade) -> Image:
    """Apply a grade to a float RGB image in 0..1; returns a clipped image."""
    out = img * np.asarray(g.tint, dtype=np.float32)
    if g.split is not None:
        luma = (out @ LUMA)[..., None]
        shadow, high = (np.asarray(c, dtype=np.float32) for c in g.split)
        out = out + shadow * (1.0 - luma) ** 2 + high * luma**2
    out = out + np.asarray(g.lift, dtype=np.float32) * (1.0 - np.clip(out, 0, 1))
    out = np.clip(out, 0.0, 1.0)
    if g.gamma != 1.0:
        out = out**g.gamma
    out = (out - 0.5) * g.contrast + 0.5
    out = saturate(out, g.saturation)
    out = vignette(out, g.vignette)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def depth_of_field(img: Image, depth: NDArray[np.float32], focus: float, strength: float) -> Image:
    """Blur by distance from the focus plane (two blur levels mixed per pixel)."""
    h = img.shape[0]
    coc = np.clip(np.abs(depth - focus) / max(focus, 1e-6) * 2.5 * strength, 0.0, 1.0)
    coc = cv2.GaussianBlur(coc, (0, 0), max(1.0, h * 0.004))[..., None]
    near = cv2.GaussianBlur(img, (0, 0), max(1.0, h * 0.004))
    far = cv2.GaussianBlur(img, (0, 0), max(1.5, h * 0.012))
    mid = np.clip(coc * 2.0, 0, 1)
    high = np.clip(coc * 2.0 - 1.0, 0, 1)
    return img * (1 - mid) + near * (mid - high) + far * high  # type: ignore[no-any-return]


def scene_grade(scene: Scene) -> Grade:
    """The grade a scene's mood and style call for (applied on the GPU by the renderer)."""
    mood = scene.mood
    if scene.style.name == "cinematic":
        return Grade(
            tint=mood.tint,
            saturation=mood.saturation * 0.9,
            contrast=mood.contrast * 1.08,
            vignette=max(mood.vignette, 0.35),
            split=((-0.02, 0.015, 0.04), (0.04, 0.015, -0.03)),
        )
    return Grade(
        tint=mood.tint,
        saturation=mood.saturation,
        contrast=mood.contrast,
        vignette=mood.vignette,
    )


def finish(
    rgb: NDArray[np.uint8],
    depth: NDArray[np.float32] | None,
    scene: Scene,
    size: tuple[int, int],
    *,
    graded: bool = False,
) -> NDArray[np.uint8]:
    """The finished frame at ``size`` (width, height) from a (possibly larger) render: depth of
    field, downsampling, the scene's grade (:func:`scene_grade`) and letterbox.

    Args:
        rgb: the render, (H, W, 3) uint8.
        depth: view depth per pixel for depth of field, or ``None``.
        scene: the scene it shows.
        size: the output (width, height).
        graded: the render already carries the grade (the GL renderer grades on the GPU);
            other renderers (Cycles) leave it ``False`` and get the grade here.
    """
    if graded and depth is None and rgb.shape[1] == size[0] and rgb.shape[0] == size[1]:
        return letterbox(rgb, scene.style.letterbox)  # the video path: no float copy at all
    img = rgb.astype(np.float32) / 255.0
    if depth is not None and scene.style.dof > 0:
        cam = np.asarray(scene.camera.position) - np.asarray(scene.camera.target)
        focus = float(np.linalg.norm(cam)) - radius(scene.product) * 0.3
        img = depth_of_field(img, depth, focus, scene.style.dof)
    if img.shape[1] != size[0] or img.shape[0] != size[1]:
        img = np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), dtype=np.float32)
    if not graded:
        img = grade_image(img, scene_grade(scene))
    out = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return letterbox(out, scene.style.letterbox)


def letterbox(img: NDArray[np.uint8], ratio: float) -> NDArray[np.uint8]:
    """Black bars top and bottom so the picture reads as ``ratio`` (e.g. 2.39)."""
    h, w = img.shape[:2]
    if ratio <= 0 or w / h >= ratio:
        return img
    bar = round((h - w / ratio) / 2)
    out = img.copy()
    out[:bar] = 0
    out[h - bar :] = 0
    return out


def psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
