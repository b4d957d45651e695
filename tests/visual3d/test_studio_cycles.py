"""Cycles renders the studio's scene: the same product, framed by the same camera."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from podium.catalog import load_catalog
from podium.providers.base import ignore_events
from podium.providers.local.cycles.film import backdrop, develop
from podium.providers.local.cycles.job import build_job, camera_to_world
from podium.providers.local.scene import Scene, scene_from_prompt
from podium.providers.local.scene.products import build_product
from podium.providers.local.scene.render import camera_matrices
from podium.providers.local.studio_cycles import ENGINE, blender_exe, render_mask
from podium.spec.vocabulary import Task
from tests.visual3d.conftest import MakeRequest

needs_blender = pytest.mark.skipif(blender_exe() is None, reason="Blender is not installed")


def raster_silhouette(scene: Scene, width: int, height: int) -> np.ndarray:
    """The product's pixels through the raster engine's own camera (its view-projection)."""
    vp, _ = camera_matrices(scene, width / height)
    a = np.radians(scene.product.yaw_deg)
    yaw = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for part in build_product(scene.product.kind, scene.product.size):
        v = part.vertices.astype(np.float64) @ yaw.T
        clip = np.c_[v, np.ones(len(v))] @ vp.T
        ndc = clip[:, :2] / clip[:, 3:4]
        px = np.c_[(ndc[:, 0] + 1) * width / 2, (1 - ndc[:, 1]) * height / 2]
        for tri in part.indices:
            draw.polygon([tuple(px[i]) for i in tri], fill=255)
    return np.asarray(mask) > 127


@needs_blender
@pytest.mark.blender
@pytest.mark.parametrize(
    "prompt",
    [
        {"subject": "a glass perfume bottle", "perspective": "three-quarter"},
        {"subject": "a ceramic mug", "perspective": "top-down", "composition": "close-up"},
        {"subject": "a phone", "perspective": "low angle", "composition": "wide"},
    ],
)
def test_cycles_sees_the_product_where_the_raster_engine_does(prompt: dict, tmp_path: Path) -> None:
    scene = scene_from_prompt(prompt, {"aspect_ratio": "4:3"}, 5)
    width, height = 160, 120
    cycles = render_mask(scene, width, height, folder=tmp_path)
    raster = raster_silhouette(scene, width, height)
    iou = (cycles & raster).sum() / (cycles | raster).sum()
    assert raster.sum() > 200
    assert iou > 0.8, f"IoU {iou:.3f}"


@needs_blender
@pytest.mark.blender
def test_the_engine_writes_a_graded_still_with_its_scene(make_request: MakeRequest) -> None:
    request = make_request(
        "local/studio-cycles",
        Task.TEXT_TO_IMAGE,
        prompt={"subject": "a red gloss plastic tube", "lighting": "softbox"},
        params={"width": 192, "height": 108, "samples": 8},
    )
    out = ENGINE.run(request, ignore_events).outputs[0]
    pixels = np.asarray(Image.open(out.path).convert("RGB"), dtype=np.float64)
    assert pixels.shape == (108, 192, 3)
    assert out.metadata["renderer"] == "cycles"
    assert Scene.from_dict(out.metadata["scene"]).product.kind == "tube"
    centre = pixels[30:80, 80:112]
    red = centre[..., 0] - centre[..., 1:].mean(axis=-1)
    assert red.mean() > 25  # the red product is in the middle of the frame


def test_without_blender_the_card_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = ENGINE.check(load_catalog().get("local/studio-cycles"))
    assert reason is not None
    assert "Blender is not installed" in reason
    assert "PODIUM_WITH_BLENDER=1 make setup" in reason


def test_the_job_puts_product_and_camera_in_blenders_frame(tmp_path: Path) -> None:
    scene = scene_from_prompt({"subject": "a bottle", "perspective": "eye level"}, {}, 2)
    job = json.loads(build_job(scene, tmp_path, width=64, height=36, samples=4).read_text())
    positions = np.concatenate(
        [np.fromfile(m["positions"], "<f4").reshape(-1, 3) for m in job["meshes"]]
    )
    # Z is up in Blender: the bottle stands from 0 to its height; it faces -Y (Podium's +Z)
    assert positions[:, 2].min() == pytest.approx(0.0, abs=1e-4)
    assert positions[:, 2].max() == pytest.approx(scene.product.size[1], rel=0.01)
    cam = np.array(job["camera"]["matrix"])
    looking = -cam[:3, 2]
    to_target = np.array([0.0, 0.0, scene.product.size[1] / 2]) - cam[:3, 3]
    assert np.dot(looking, to_target / np.linalg.norm(to_target)) > 0.99
    assert cam[1, 3] < 0  # the camera stands in front of the label
    assert all(os.path.getsize(m["indices"]) == m["faces"] * 12 for m in job["meshes"])


def test_looking_straight_down_keeps_the_front_at_the_bottom() -> None:
    scene = scene_from_prompt({"subject": "a mug", "perspective": "top-down"}, {}, 0)
    m = camera_to_world(scene)
    assert m[:3, 2] @ np.array([0.0, 1.0, 0.0]) > 0.97  # looks down
    assert m[:3, 1] @ np.array([0.0, 0.0, -1.0]) > 0.9  # frame-up points away from the front


def test_film_lays_the_render_over_the_raster_backdrop() -> None:
    scene = scene_from_prompt({"subject": "a can", "background": "gradient"}, {}, 0)
    rgba = np.zeros((20, 30, 4), dtype=np.float32)
    rgba[5:15, 10:20] = (0.5, 0.5, 0.5, 1.0)  # an opaque grey product
    rgb = develop(rgba, scene, exposure=0.6)
    behind = np.asarray(backdrop(scene, 30, 20) * 255 + 0.5, dtype=np.uint8)
    assert np.array_equal(rgb[0], behind[0])  # where nothing was hit: the backdrop
    x = 0.5 * 0.6  # the raster shader's tonemap: exposure, ACES fit, 2.2 gamma
    aces = (x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14)
    assert abs(int(rgb[10, 15, 0]) - aces ** (1 / 2.2) * 255) <= 1
