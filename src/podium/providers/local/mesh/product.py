"""The studio's products as textured, PBR-shaded meshes: what ``local/parametric-3d`` writes and
what the path tracer is handed.

A product's parts carry a material *role* (:mod:`podium.providers.local.scene.products`): the
body takes the scene's material, the accent its caps and lids, the label its drawn or given
label image, the screen a black glass. :func:`role_materials` turns a scene's material into one
:class:`~podium.providers.local.mesh.export.PBR` per role, so the GLB and the Cycles render
agree on what a "gloss plastic" is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from podium.media.mesh import Part
from podium.providers.local.mesh.export import PBR
from podium.providers.local.scene.labels import label_image
from podium.providers.local.scene.mesh import MeshPart
from podium.providers.local.scene.model import Scene

# A lacquer layer on the materials that have one in life.
CLEARCOAT = {"gloss-plastic": 1.0, "ceramic": 0.6}


def role_materials(scene: Scene) -> dict[str, PBR]:
    """The PBR material of each part role for ``scene``'s material."""
    mat = scene.material
    glass = mat.opacity < 1.0
    body = PBR(
        name=mat.name,
        base_color=(*mat.color, mat.opacity if glass else 1.0),
        metallic=mat.metallic,
        roughness=mat.roughness,
        transmission=0.95 if glass else 0.0,
        ior=1.5,
        clearcoat=CLEARCOAT.get(mat.name, 0.0),
        double_sided=glass,
    )
    metal = mat.accent_metallic >= 0.5
    accent = PBR(
        name="accent-metal" if metal else "accent-plastic",
        base_color=(*mat.accent_color, 1.0),
        metallic=1.0 if metal else 0.0,
        roughness=0.22 if metal else 0.3,
    )
    label = PBR(name="label", base_color=(*scene.label.color, 1.0), roughness=0.4)
    screen = PBR(name="screen", base_color=(0.01, 0.01, 0.012, 1.0), roughness=0.05, clearcoat=1.0)
    return {"body": body, "accent": accent, "label": label, "screen": screen, "inner": body}


def label_aspect(part: MeshPart) -> float:
    """Width / height of the part's texture as laid on its surface (for undistorted labels)."""
    tri = part.indices
    p = part.vertices[tri].astype(np.float64)
    t = part.uvs[tri].astype(np.float64)
    dp = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], axis=2)
    dt = np.stack([t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]], axis=2)
    det = np.linalg.det(dt)
    ok = np.abs(det) > 1e-12
    if not ok.any():
        return 1.0
    jac = dp[ok] @ np.linalg.inv(dt[ok])  # dP/du and dP/dv per triangle
    su = np.linalg.norm(jac[:, :, 0], axis=1).mean()
    sv = np.linalg.norm(jac[:, :, 1], axis=1).mean()
    return float(su / max(sv, 1e-9))


def has_label(scene: Scene) -> bool:
    """Whether the scene draws a label (a ``negative: label`` removes it)."""
    return bool(scene.label.text or scene.label.image)


def to_trimesh(part: MeshPart, material: Any, texture: Any = None) -> Any:
    """One mesh part as a ``trimesh.Trimesh`` with its normals, UVs and material."""
    import trimesh
    from trimesh import visual

    mesh: Any = trimesh.Trimesh(
        vertices=np.asarray(part.vertices, dtype=np.float64),
        faces=np.asarray(part.indices, dtype=np.int64),
        vertex_normals=np.asarray(part.normals, dtype=np.float64),
        process=False,
    )
    if texture is not None:
        material.baseColorTexture = texture
        material.baseColorFactor = [255, 255, 255, 255]
    texture_visuals: Any = visual.TextureVisuals
    mesh.visual = texture_visuals(uv=np.asarray(part.uvs, dtype=np.float64), material=material)
    return mesh


def product_parts(scene: Scene, parts: list[MeshPart]) -> list[Part]:
    """``parts`` of ``scene``'s product as meshes with materials (labels textured)."""
    materials = role_materials(scene)
    out = []
    for part in parts:
        if part.role in ("label",) and not has_label(scene):
            continue
        pbr = materials.get(part.role, materials["body"])
        material = pbr.trimesh_material()
        texture = None
        if part.role == "label":
            texture = label_image(scene.label, label_aspect(part)).convert("RGB")
        out.append(
            Part(name=part.name, mesh=to_trimesh(part, material, texture), material=material)
        )
    return out


def extensions(scene: Scene) -> dict[str, dict[str, Any]]:
    """glTF material extensions by material name, for :func:`~.export.write_glb`."""
    return {pbr.name: pbr.gltf_extensions() for pbr in role_materials(scene).values()}
