"""How moving frames are drawn: the floor baked once per shot, FXAA where the edges are."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from podium.providers.local.scene import scene_from_prompt
from podium.providers.local.scene.post import psnr
from podium.providers.local.scene.render import (
    _draw,
    _edge_box,
    camera_matrices,
    product_mask,
)

W, H = 320, 180


@pytest.mark.parametrize("background", ["studio sweep", "gradient", "plain white"])
def test_the_baked_floor_matches_the_floor_lit_per_pixel(background: str) -> None:
    scene = scene_from_prompt(
        {"subject": "a perfume bottle", "background": background, "lighting": "window"},
        {"width": W, "height": H},
        3,
    )
    mapped = _draw(scene, W, H, motion=True)
    lit = _draw(scene, W, H, motion=True, floor_map=False)
    floor = ~product_mask(scene, W, H)
    assert psnr(mapped[floor], lit[floor]) > 36
    # the shadow is in the map: the floor is not evenly lit
    shadowless = _draw(dataclasses.replace(scene, shadows=False), W, H, motion=True)
    assert psnr(mapped[floor], shadowless[floor]) < psnr(mapped[floor], lit[floor]) - 6


def test_the_floor_map_follows_the_lighting() -> None:
    """A second shot with other lamps gets its own map, not the first shot's."""
    first = scene_from_prompt({"subject": "a can", "lighting": "softbox"}, {}, 1)
    second = dataclasses.replace(
        first,
        lighting=scene_from_prompt({"subject": "a can", "lighting": "golden hour"}, {}, 1).lighting,
    )
    _draw(first, W, H, motion=True)
    mapped = _draw(second, W, H, motion=True)
    lit = _draw(second, W, H, motion=True, floor_map=False)
    stale = _draw(first, W, H, motion=True, floor_map=False)
    floor = ~product_mask(second, W, H)
    assert psnr(mapped[floor], lit[floor]) > 36
    assert psnr(mapped[floor], stale[floor]) < 30


@pytest.mark.parametrize("composition", ["close-up", "medium", "wide"])
def test_the_fxaa_box_holds_every_product_pixel(composition: str) -> None:
    scene = scene_from_prompt({"subject": "a glass bottle", "composition": composition}, {}, 2)
    vp, _ = camera_matrices(scene, W / H)
    x, y, bw, bh = _edge_box(scene, vp, (W, H))
    mask = product_mask(scene, W, H)[::-1]  # GL rows: bottom first
    rows, cols = np.nonzero(mask)
    assert rows.size > 0
    assert x <= cols.min() and cols.max() < x + bw
    assert y <= rows.min() and rows.max() < y + bh
    if composition == "wide":  # a small product leaves most of the frame to the cheap pass
        assert bw * bh < 0.5 * W * H
