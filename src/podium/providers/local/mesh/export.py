"""Writing parts as a binary glTF (GLB) with PBR materials, in metres, Y up.

trimesh writes the core metallic-roughness material; the glTF extensions that make glass look
like glass (``KHR_materials_transmission``, ``KHR_materials_ior``) and gloss like gloss
(``KHR_materials_clearcoat``) are added to the GLB's JSON chunk afterwards, by material name.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.media.mesh import Part

_GLB_MAGIC = 0x46546C67
_JSON_CHUNK = 0x4E4F534A


def _material_class() -> type:
    from trimesh.visual.material import PBRMaterial

    return PBRMaterial


@dataclass(frozen=True)
class PBR:
    """A metallic-roughness material with the few extensions product shots need.

    Attributes:
        name: material name in the file.
        base_color: linear RGBA, 0–1.
        metallic: 0 dielectric … 1 metal.
        roughness: 0 mirror … 1 chalk.
        transmission: 0 opaque … 1 clear glass.
        ior: index of refraction (1.5 glass, plastic).
        clearcoat: a glossy lacquer layer over the base, 0–1.
        double_sided: render back faces (thin labels).
    """

    name: str
    base_color: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    metallic: float = 0.0
    roughness: float = 0.5
    transmission: float = 0.0
    ior: float = 1.5
    clearcoat: float = 0.0
    double_sided: bool = False
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def trimesh_material(self) -> Any:
        """The core material as trimesh writes it."""
        material: Any = _material_class()
        return material(
            name=self.name,
            baseColorFactor=[round(c * 255) for c in self.base_color],
            metallicFactor=self.metallic,
            roughnessFactor=self.roughness,
            alphaMode="BLEND" if self.base_color[3] < 1.0 else "OPAQUE",
            doubleSided=self.double_sided,
        )

    def gltf_extensions(self) -> dict[str, Any]:
        """The glTF material extensions this material needs."""
        ext: dict[str, Any] = dict(self.extensions)
        if self.transmission > 0:
            ext["KHR_materials_transmission"] = {"transmissionFactor": self.transmission}
            ext["KHR_materials_ior"] = {"ior": self.ior}
        if self.clearcoat > 0:
            ext["KHR_materials_clearcoat"] = {
                "clearcoatFactor": self.clearcoat,
                "clearcoatRoughnessFactor": 0.05,
            }
        return ext


def factors_only(material: Any) -> Any:
    """A loaded material without its textures (repaired geometry has no UVs to map them)."""
    pbr_class: Any = _material_class()
    if material is None:
        return None
    pbr = material.to_pbr() if hasattr(material, "to_pbr") else material
    if not isinstance(pbr, pbr_class):
        return None
    return pbr_class(
        name=pbr.name,
        baseColorFactor=pbr.baseColorFactor,
        metallicFactor=pbr.metallicFactor,
        roughnessFactor=pbr.roughnessFactor,
        emissiveFactor=pbr.emissiveFactor,
        alphaMode=pbr.alphaMode,
        doubleSided=pbr.doubleSided,
    )


def write_glb(
    parts: list[Part],
    path: Path,
    *,
    extensions: Mapping[str, Mapping[str, Any]] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``parts`` (materials as trimesh materials) to a GLB file.

    Args:
        parts: the geometries, in metres.
        path: the file to write.
        extensions: glTF material extensions by material name.
        extras: JSON data stored in the asset's ``extras`` (generator facts, units).
    """
    import trimesh
    from trimesh import visual

    texture_visuals: Any = visual.TextureVisuals
    scene: Any = trimesh.Scene()
    for part in parts:
        mesh = part.mesh
        if (
            part.material is not None
            and getattr(mesh.visual, "material", None) is not part.material
        ):
            mesh = mesh.copy()
            uv = getattr(mesh.visual, "uv", None)
            mesh.visual = texture_visuals(uv=uv, material=part.material)
        scene.add_geometry(mesh, node_name=part.name, geom_name=part.name)
    data = scene.export(file_type="glb", include_normals=True)
    path.write_bytes(patch_json(bytes(data), extensions or {}, extras or {}))
    return path


def patch_json(
    glb: bytes, extensions: Mapping[str, Mapping[str, Any]], extras: Mapping[str, Any]
) -> bytes:
    """Add material extensions and asset extras to a GLB's JSON chunk."""
    magic, version, _ = struct.unpack_from("<III", glb, 0)
    length, kind = struct.unpack_from("<II", glb, 12)
    if magic != _GLB_MAGIC or kind != _JSON_CHUNK:
        raise ValueError("not a binary glTF file")
    doc = json.loads(glb[20 : 20 + length])
    used: set[str] = set(doc.get("extensionsUsed", []))
    for material in doc.get("materials", []):
        ext = extensions.get(material.get("name", ""))
        if ext:
            material.setdefault("extensions", {}).update(ext)
            used.update(ext)
    if used:
        doc["extensionsUsed"] = sorted(used)
    if extras:
        doc.setdefault("asset", {})["extras"] = dict(extras)
    body = json.dumps(doc, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 4)  # chunks are 4-byte aligned, JSON padded with spaces
    rest = glb[20 + length :]
    total = 12 + 8 + len(body) + len(rest)
    return (
        struct.pack("<III", magic, version, total)
        + struct.pack("<II", len(body), kind)
        + body
        + rest
    )


def read_json(path: Path) -> dict[str, Any]:
    """The JSON chunk of a GLB file (materials, nodes, asset)."""
    glb = path.read_bytes()
    length, kind = struct.unpack_from("<II", glb, 12)
    if struct.unpack_from("<I", glb, 0)[0] != _GLB_MAGIC or kind != _JSON_CHUNK:
        raise ValueError(f"{path.name} is not a binary glTF file")
    doc: dict[str, Any] = json.loads(glb[20 : 20 + length])
    return doc
