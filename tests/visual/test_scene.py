"""The scene model and the product library other engines import."""

from __future__ import annotations

import json

import numpy as np
import pytest

from podium.providers.local.scene import Scene, scene_from_prompt
from podium.providers.local.scene.products import KINDS, SPECS, build_product


def test_scene_survives_json_in_artifact_metadata() -> None:
    prompt = {
        "subject": "a frosted glass perfume 'Aurora'",
        "lighting": "neon rim",
        "mood": "luxurious",
        "style": "cinematic",
        "background": "gradient",
    }
    scene = scene_from_prompt(prompt, {"aspect_ratio": "4:5"}, 7)
    again = Scene.from_dict(json.loads(json.dumps(scene.to_dict())))
    assert again == scene
    assert (scene.product.kind, scene.material.name, scene.label.text) == (
        "perfume",
        "glass",
        "Aurora",
    )
    assert (scene.lighting.preset, scene.style.name, scene.background.kind) == (
        "neon-rim",
        "cinematic",
        "gradient",
    )


def test_same_prompt_and_seed_same_scene_other_seed_varies() -> None:
    prompt = {"subject": "a mug", "mood": "playful"}
    assert scene_from_prompt(prompt, {}, 1) == scene_from_prompt(prompt, {}, 1)
    assert scene_from_prompt(prompt, {}, 1) != scene_from_prompt(prompt, {}, 2)


def test_first_named_word_wins_and_negatives_switch_things_off() -> None:
    scene = scene_from_prompt(
        {
            "subject": "a tube",
            "material": "matte plastic",
            "negative": "no shadows, no reflections",
        },
        {},
        0,
    )
    assert scene.material.name == "matte-plastic"
    assert not scene.shadows and not scene.reflections


@pytest.mark.parametrize("kind", KINDS)
def test_products_are_closed_up_meshes_in_metres(kind: str) -> None:
    parts = build_product(kind)
    w, h, d = SPECS[kind].size
    verts = np.concatenate([p.vertices for p in parts])
    size = verts.max(axis=0) - verts.min(axis=0)
    assert size[1] == pytest.approx(h, rel=0.12)
    assert max(size[0], size[2]) == pytest.approx(max(w, d), rel=0.9)
    assert verts[:, 1].min() > -1e-3  # stands on the floor
    for part in parts:
        assert part.indices.max() < len(part.vertices)
        assert np.allclose(np.linalg.norm(part.normals, axis=1), 1.0, atol=1e-3)
        tri = part.vertices[part.indices]
        face = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        agree = (face * part.normals[part.indices].mean(axis=1)).sum(axis=1)
        big = np.abs(agree) > 1e-12
        # winding is counter-clockwise seen from where the normals point
        assert (agree[big] > 0).mean() > 0.98, part.name
