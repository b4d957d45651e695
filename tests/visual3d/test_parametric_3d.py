"""text-to-3d writes the product library as GLB files that load back with their materials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh

from podium.errors import InvalidInput
from podium.providers.base import ignore_events
from podium.providers.local.mesh.export import read_json
from podium.providers.local.parametric_3d import ENGINE
from podium.providers.local.scene import Scene
from podium.providers.local.scene.products import KINDS, SPECS
from podium.spec.vocabulary import Task
from tests.visual3d.conftest import MakeRequest


def _make(make_request: MakeRequest, prompt: Any, **params: object) -> tuple[Path, dict]:
    request = make_request("local/parametric-3d", Task.TEXT_TO_3D, prompt=prompt, params=params)
    out = ENGINE.run(request, ignore_events).outputs[0]
    return out.path, out.metadata


@pytest.mark.parametrize("kind", KINDS)
def test_every_product_loads_back_in_metres_with_its_materials(
    kind: str, make_request: MakeRequest
) -> None:
    path, meta = _make(make_request, {"subject": f"a {kind}", "material": "matte"})
    assert meta["product"] == kind
    scene = trimesh.load(path)
    assert isinstance(scene, trimesh.Scene)
    w, h, _ = SPECS[kind].size
    lo, hi = scene.bounds
    # Y up, standing on the origin, at its real size
    assert lo[1] == pytest.approx(0.0, abs=1e-4)
    assert hi[1] - lo[1] == pytest.approx(h, rel=0.05)
    assert hi[0] - lo[0] == pytest.approx(w, rel=0.6)  # handles and caps stick out
    materials = {g.visual.material.name: g.visual.material for g in scene.geometry.values()}
    # a can's body is the metal under its print: its material is the accent
    body = materials["accent-metal" if kind == "can" else "matte-plastic"]
    assert body.roughnessFactor == pytest.approx(0.22 if kind == "can" else 0.75)
    assert body.metallicFactor == pytest.approx(1.0 if kind == "can" else 0.0)
    if "label" in materials:
        texture = materials["label"].baseColorTexture
        assert texture is not None and texture.size[0] > 16


def test_glass_is_transmissive_and_metal_is_metal(make_request: MakeRequest) -> None:
    path, _ = _make(make_request, {"subject": "a perfume bottle", "material": "frosted glass"})
    doc = read_json(path)
    by_name = {m["name"]: m for m in doc["materials"]}
    glass = by_name["glass"]
    assert glass["extensions"]["KHR_materials_transmission"]["transmissionFactor"] > 0.9
    assert glass["alphaMode"] == "BLEND"
    assert "KHR_materials_transmission" in doc["extensionsUsed"]
    assert by_name["accent-metal"]["pbrMetallicRoughness"]["metallicFactor"] == 1.0
    assert doc["asset"]["extras"]["units"] == "m"


def test_the_scene_rides_along_and_matches_the_asset(make_request: MakeRequest) -> None:
    _, meta = _make(make_request, {"subject": "a blue ceramic mug 'KORA'"})
    scene = Scene.from_dict(meta["scene"])
    assert scene.product.kind == "mug"
    assert scene.material.name == "ceramic"
    assert scene.label.text == "KORA"


def test_a_face_budget_and_low_poly_cut_faces(make_request: MakeRequest) -> None:
    _, full = _make(make_request, {"subject": "a toothpaste tube"})
    _, budget = _make(make_request, {"subject": "a toothpaste tube"}, faces=1200)
    _, low = _make(make_request, {"subject": "a toothpaste tube", "style": "low-poly"})
    assert full["faces"] > 3000
    assert budget["faces"] <= 1300
    assert low["faces"] < budget["faces"]
    assert np.allclose(budget["extents_m"], full["extents_m"], rtol=0.05)


def test_no_subject_is_the_users_fault(make_request: MakeRequest) -> None:
    with pytest.raises(InvalidInput, match="needs a subject"):
        _make(make_request, None)
