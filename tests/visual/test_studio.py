"""local/studio: the prompt is a specification a viewer can check in the picture."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from podium.errors import InvalidInput
from podium.media.image import hsv_stats, image_size
from podium.providers.base import InputArtifact
from podium.providers.local.scene import Scene, frame, scene_from_prompt
from podium.providers.local.scene.render import product_mask, render
from podium.spec.vocabulary import ArtifactType, Task

from .conftest import H, Runner, W

EIGHT = ("bottle", "can", "box", "jar", "tube", "phone", "mug", "compact")


def _front(scene: Scene) -> Scene:
    """The scene seen straight from the front at eye level, product square to the camera."""
    product = dataclasses.replace(scene.product, yaw_deg=0.0)
    cam = frame(product, composition="medium", perspective="eye-level", aspect=W / H)
    return dataclasses.replace(scene, product=product, camera=cam)


def test_eight_products_have_distinct_silhouettes() -> None:
    masks = {}
    # one camera for all, framed on the tallest, so size is part of the silhouette
    tallest = scene_from_prompt({"subject": "a bottle"}, {}, 0).product
    cam = frame(tallest, composition="medium", perspective="three-quarter", aspect=W / H)
    for kind in EIGHT:
        scene = scene_from_prompt({"subject": f"a {kind}"}, {}, 0)
        scene = dataclasses.replace(
            scene, product=dataclasses.replace(scene.product, yaw_deg=0.0), camera=cam
        )
        assert scene.product.kind == kind
        masks[kind] = product_mask(scene, W, H)
        assert masks[kind].mean() > 0.01, f"{kind} is not in the frame"
    worst = 0.0
    for a, b in itertools.combinations(EIGHT, 2):
        inter = np.logical_and(masks[a], masks[b]).sum()
        union = np.logical_or(masks[a], masks[b]).sum()
        assert inter / union < 0.8, f"{a} and {b} look alike (IoU {inter / union:.2f})"
        worst = max(worst, inter / union)
    print(f"largest silhouette IoU among the 8 products: {worst:.2f}")


def test_exact_size_for_any_aspect_ratio(runner: Runner) -> None:
    for params, size in (
        ({"width": 200, "height": 300}, (200, 300)),
        ({"width": None, "height": None, "aspect_ratio": "9:16"}, (576, 1024)),
        ({"width": 160, "height": None, "aspect_ratio": "1:1"}, (160, 160)),
    ):
        result = runner.run("studio", Task.TEXT_TO_IMAGE, {"subject": "a jar"}, params)
        out = result.outputs[0]
        assert image_size(out.path) == size
        assert (out.metadata["width"], out.metadata["height"]) == size


def test_shadow_falls_on_the_floor_away_from_the_key_light() -> None:
    scene = scene_from_prompt({"subject": "a box", "lighting": "three-point"}, {}, 0)
    lit = render(dataclasses.replace(scene, shadows=False), W, H).astype(float).mean(-1)
    shaded = render(scene, W, H).astype(float).mean(-1)
    mask = product_mask(scene, W, H)
    darker = (lit - shaded > 8) & ~mask
    assert darker.mean() > 0.01, "no shadow on the floor"
    key_x = scene.lighting.lights[0].position[0]
    shadow_x = np.nonzero(darker)[1].mean()
    product_x = np.nonzero(mask)[1].mean()
    # the key light stands on one side, so the shadow falls on the other
    assert np.sign(shadow_x - product_x) == -np.sign(key_x)


def _highlights(kind_prompt: dict[str, str]) -> float:
    scene = _front(scene_from_prompt(kind_prompt, {}, 0))
    scene = dataclasses.replace(scene, label=dataclasses.replace(scene.label, text=""))
    img = render(scene, W * 2, H * 2, supersample=1).astype(float) / 255
    mask = product_mask(scene, W * 2, H * 2)
    bright = (img.min(-1) > 0.85) & mask
    return float(bright.sum() / mask.sum())


def test_glossy_materials_show_specular_highlights_matte_ones_do_not() -> None:
    prompt = {"subject": "a red tube", "lighting": "softbox"}
    gloss = _highlights({**prompt, "material": "gloss plastic"})
    matte = _highlights({**prompt, "material": "matte plastic"})
    assert gloss > 0.005, f"no highlight on gloss plastic ({gloss:.4f})"
    assert gloss > 3 * matte


def _fill(prompt: dict[str, str]) -> float:
    scene = scene_from_prompt(prompt, {"width": W, "height": H}, 0)
    return float(product_mask(scene, W, H).mean())


def test_close_up_fills_more_of_the_frame_than_wide() -> None:
    close = _fill({"subject": "a mug", "composition": "close-up"})
    medium = _fill({"subject": "a mug", "composition": "medium"})
    wide = _fill({"subject": "a mug", "composition": "wide"})
    assert close > 1.5 * medium > 1.5 * 1.5 * wide


def test_neon_lighting_shifts_the_dominant_hues(runner: Runner) -> None:
    plain, _, _ = runner.still({"subject": "a white box", "lighting": "studio three-point"})
    neon, _, _ = runner.still({"subject": "a white box", "lighting": "neon rim"})
    a, b = hsv_stats(plain), hsv_stats(neon)
    assert b["saturation"] > a["saturation"] + 0.15
    # magenta and cyan rims: the mean hue sits in the blue-magenta half, not warm white
    assert 180 <= b["hue_deg"] <= 340


def test_top_down_sees_the_top_of_the_product() -> None:
    side = scene_from_prompt({"subject": "a can", "perspective": "eye level"}, {}, 0)
    top = scene_from_prompt({"subject": "a can", "perspective": "top-down"}, {}, 0)
    for scene, tall in ((side, True), (top, False)):
        ys, xs = np.nonzero(product_mask(scene, W, H))
        ratio = (np.ptp(ys) + 1) / (np.ptp(xs) + 1)
        # from the side a can is taller than wide; from above it is a disc
        assert (ratio > 1.4) if tall else (0.8 < ratio < 1.25), ratio
    cam = top.camera
    assert cam.position[1] - cam.target[1] > 5 * abs(cam.position[2] - cam.target[2])


def test_the_label_image_appears_on_the_product(runner: Runner, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 100), (0, 200, 40)).save(logo)
    label = InputArtifact(ArtifactType.IMAGE, logo, "0" * 64, {})
    prompt = {"subject": "a white bottle", "material": "ceramic", "perspective": "eye level"}
    with_label = runner.run("studio", Task.TEXT_TO_IMAGE, prompt, inputs={"label": label})
    without = runner.run("studio", Task.TEXT_TO_IMAGE, prompt)

    def green(path: Path) -> float:
        img = np.asarray(Image.open(path).convert("RGB")).astype(int)
        return float(((img[..., 1] - np.maximum(img[..., 0], img[..., 2])) > 60).mean())

    scene = Scene.from_dict(with_label.outputs[0].metadata["scene"])
    mask = product_mask(scene, W, H)
    img = np.asarray(Image.open(with_label.outputs[0].path).convert("RGB")).astype(int)
    on_product = ((img[..., 1] - np.maximum(img[..., 0], img[..., 2])) > 60) & mask
    assert on_product.sum() > 0.08 * mask.sum()
    assert green(without.outputs[0].path) < 0.001


def test_cinematic_style_letterboxes_and_same_seed_repeats(runner: Runner) -> None:
    prompt = {"subject": "a perfume", "style": "cinematic"}
    a, meta, _ = runner.still(prompt, {"width": 240, "height": 180}, seed=3)
    b, _, _ = runner.still(prompt, {"width": 240, "height": 180}, seed=3)
    c, _, _ = runner.still(prompt, {"width": 240, "height": 180}, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    bar = round((180 - 240 / 2.39) / 2)
    assert a[: bar - 1].max() == 0 and a[-bar + 1 :].max() == 0
    assert a[90].mean() > 10
    scene = Scene.from_dict(json.loads(json.dumps(meta["scene"])))
    assert scene.style.name == "cinematic"


def test_an_impossible_size_is_the_users_error(runner: Runner) -> None:
    with pytest.raises(InvalidInput, match="outside"):
        runner.run("studio", Task.TEXT_TO_IMAGE, {"subject": "a can"}, {"width": 9000})


def test_a_phone_screen_is_black_glass_on_a_white_body() -> None:
    scene = _front(
        scene_from_prompt({"subject": "a white phone", "composition": "close-up"}, {}, 0)
    )
    img = render(scene, W, H).astype(np.float32) / 255.0
    mask = product_mask(scene, W, H)
    ys, xs = np.nonzero(mask)
    cy, cx, hh, hw = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2, np.ptp(ys), np.ptp(xs)
    screen = img[cy - hh // 5 : cy + hh // 5, cx - hw // 5 : cx + hw // 5]
    body = img[mask].max(axis=-1)
    assert float(screen.mean()) < 0.12, f"screen mean {screen.mean():.2f}"
    assert float(np.percentile(body, 90)) > 0.6  # the white body around it stays white
