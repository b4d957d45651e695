"""A broken mesh comes back watertight, outward-facing, with its volume, in any format."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh
from trimesh.visual import TextureVisuals
from trimesh.visual.material import PBRMaterial

from podium.errors import InvalidInput
from podium.media.mesh import check_mesh, load_parts
from podium.providers.base import InputArtifact, ignore_events
from podium.providers.local.mesh_repair import ENGINE
from podium.spec.vocabulary import ArtifactType, Task
from tests.visual3d.conftest import MakeRequest
from tests.visual3d.meshes import broken, intact


def _repair(make_request: MakeRequest, path: Path, **params: object) -> tuple[Path, dict]:
    mesh = InputArtifact(ArtifactType.MESH, path, sha256=path.name)
    request = make_request(
        "local/mesh-repair", Task.MESH_REPAIR, inputs={"mesh": mesh}, params=params
    )
    out = ENGINE.run(request, ignore_events).outputs[0]
    assert out.path.suffix == ".glb"
    return out.path, out.metadata


@pytest.mark.parametrize(
    ("fmt", "units", "scale"), [("glb", "m", 1.0), ("stl", "mm", 1000.0), ("obj", "cm", 100.0)]
)
def test_a_broken_mesh_comes_back_watertight_with_its_volume(
    fmt: str, units: str, scale: float, make_request: MakeRequest, tmp_path: Path
) -> None:
    good = intact()
    bad = broken(good)
    assert not bad.is_watertight and not bad.is_winding_consistent
    bad.apply_scale(scale)  # written in the file's own unit
    path = tmp_path / f"broken.{fmt}"
    bad.export(path)
    out, meta = _repair(make_request, path, units=units)

    assert meta["watertight"] is True
    assert meta["volume_m3"] == pytest.approx(good.volume, rel=0.02)
    assert meta["holes_filled"] >= 20
    assert 150 <= meta["report"]["normals_flipped"] <= 160  # faces by a hole may be counted too
    assert meta["report"]["components_kept"] == 2  # MeshFix alone keeps only the capsule

    # measured again from the written file, not from what the engine said
    back = trimesh.load(out, force="mesh")
    assert back.is_watertight and back.is_winding_consistent
    assert back.volume > 0  # normals point outward
    assert back.volume == pytest.approx(good.volume, rel=0.02)
    assert back.extents == pytest.approx(good.extents, rel=0.01)  # metres


def test_a_face_budget_decimates_and_stays_closed(
    make_request: MakeRequest, tmp_path: Path
) -> None:
    good = intact()
    path = tmp_path / "broken.glb"
    broken(good).export(path)
    out, meta = _repair(make_request, path, faces=600)
    stats = check_mesh(out)
    assert meta["faces_before"] > 2000
    assert stats.faces <= 620
    assert stats.watertight
    assert stats.volume_m3 == pytest.approx(good.volume, rel=0.03)
    assert meta["report"]["decimated"] is True


def test_materials_survive_the_repair(make_request: MakeRequest, tmp_path: Path) -> None:
    body = broken(trimesh.creation.capsule(height=0.1, radius=0.03), flipped=20)
    red = PBRMaterial(name="red-gloss", baseColorFactor=[200, 20, 20, 255], roughnessFactor=0.2)
    body.visual = TextureVisuals(material=red)
    path = tmp_path / "red.glb"
    body.export(path)
    out, _ = _repair(make_request, path)
    (part,) = load_parts(out)
    assert part.material.name == "red-gloss"
    assert list(part.material.baseColorFactor) == [200, 20, 20, 255]
    assert part.mesh.is_watertight


def test_a_flat_sheet_is_refused_with_a_clear_message(
    make_request: MakeRequest, tmp_path: Path
) -> None:
    sheet = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    path = tmp_path / "sheet.stl"
    sheet.export(path)
    with pytest.raises(InvalidInput, match="no surface that can be closed") as err:
        _repair(make_request, path)
    assert err.value.where and "step" in err.value.where


def test_not_a_mesh_file_is_the_users_fault(make_request: MakeRequest, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a mesh")
    with pytest.raises(InvalidInput, match="not a mesh file"):
        _repair(make_request, path)


def test_every_parametric_product_comes_back_watertight(
    make_request: MakeRequest, tmp_path: Path
) -> None:
    # real assemblies: lathes with UV seams and hard creases, caps as separate sheets
    from podium.providers.local.parametric_3d import ENGINE as PARAMETRIC
    from podium.providers.local.scene.products import KINDS

    for kind in KINDS:
        request = make_request("local/parametric-3d", Task.TEXT_TO_3D, prompt={"subject": kind})
        asset = PARAMETRIC.run(request, ignore_events).outputs[0].path
        out, meta = _repair(make_request, asset)
        stats = check_mesh(out)
        assert stats.watertight and stats.winding_consistent, kind
        assert stats.volume_m3 > 0, kind
        assert meta["report"]["components_kept"] >= 1, kind
