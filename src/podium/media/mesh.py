"""Meshes: loading any GLB/glTF/OBJ/STL/PLY into parts, measuring them, checking outputs.

A *part* is one geometry with its material, placed in the file's coordinates (its scene-graph
transform applied) and scaled to metres. glTF is in metres by definition; OBJ, STL and PLY
carry no unit, so the caller says which one they are in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import BadOutput, InvalidInput

FORMATS = ("glb", "gltf", "obj", "stl", "ply", "off")
UNITS_M = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048}


@dataclass
class Part:
    """One geometry of a mesh file.

    Attributes:
        name: the geometry's name in the file.
        mesh: a ``trimesh.Trimesh`` in metres.
        material: its material (a trimesh material), if the file had one.
    """

    name: str
    mesh: Any
    material: Any = None


@dataclass(frozen=True)
class MeshStats:
    """What a mesh measures.

    Attributes:
        faces: triangle count.
        vertices: vertex count.
        components: connected pieces.
        holes: boundary loops (0 on a closed surface).
        watertight: every edge shared by exactly two faces.
        winding_consistent: neighbouring faces agree on orientation.
        volume_m3: enclosed volume, signed: negative when the normals point inward
            (meaningful only when watertight).
        extents_m: bounding-box size (x, y, z).
    """

    faces: int
    vertices: int
    components: int
    holes: int
    watertight: bool
    winding_consistent: bool
    volume_m3: float
    extents_m: tuple[float, float, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "faces": self.faces,
            "vertices": self.vertices,
            "components": self.components,
            "holes": self.holes,
            "watertight": self.watertight,
            "winding_consistent": self.winding_consistent,
            "volume_m3": round(self.volume_m3, 9),
            "extents_m": [round(e, 6) for e in self.extents_m],
        }


def mesh_format(path: Path) -> str:
    """The file's format from its suffix.

    Raises:
        InvalidInput: not a mesh format Podium reads.
    """
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InvalidInput(
            f"{path.name} is not a mesh file Podium reads",
            hint=f"give a {', '.join(FORMATS)} file",
        )
    return fmt


def load_parts(path: str | Path, *, units: str = "m") -> list[Part]:
    """Read a mesh file into parts, in metres (``units`` applies to unitless formats).

    Raises:
        InvalidInput: unknown format or unit.
        BadOutput: the file cannot be read as a mesh or holds no triangles.
    """
    import trimesh

    p = Path(path)
    fmt = mesh_format(p)
    if units not in UNITS_M:
        raise InvalidInput(f"unknown unit {units!r}", hint=f"use one of {', '.join(UNITS_M)}")
    scale = 1.0 if fmt in ("glb", "gltf") else UNITS_M[units]
    try:
        loaded: Any = trimesh.load(str(p), file_type=fmt, force="scene", process=True)
    except Exception as exc:  # trimesh raises many types for a corrupt file
        raise BadOutput(f"{p.name} cannot be read as {fmt}: {type(exc).__name__}: {exc}") from exc
    parts = []
    for node in loaded.graph.nodes_geometry:
        transform, geom_name = loaded.graph[node]
        geom = loaded.geometry[geom_name]
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue  # point clouds and paths have no surface to repair
        mesh: Any = geom.copy()
        mesh.apply_transform(transform)
        if scale != 1.0:
            mesh.apply_scale(scale)
        material = getattr(mesh.visual, "material", None)
        parts.append(Part(name=str(geom_name), mesh=mesh, material=material))
    if not parts:
        raise BadOutput(f"{p.name} holds no triangles")
    return parts


def boundary_loops(mesh: Any) -> int:
    """How many holes a mesh has: loops of edges used by only one face."""
    import trimesh

    edges = np.sort(np.asarray(mesh.edges), axis=1)
    if len(edges) == 0:
        return 0
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    open_edges = unique[counts == 1]
    if len(open_edges) == 0:
        return 0
    return len(trimesh.graph.connected_components(open_edges, min_len=1))


def measure(mesh: Any) -> MeshStats:
    """Measure one ``trimesh.Trimesh``."""
    import trimesh

    components = trimesh.graph.connected_components(
        mesh.face_adjacency, nodes=np.arange(len(mesh.faces)), min_len=1
    )
    # a flat or open surface has no volume; trimesh then divides by zero for its centroid
    with np.errstate(divide="ignore", invalid="ignore"):
        volume = float(mesh.volume)
    return MeshStats(
        faces=len(mesh.faces),
        vertices=len(mesh.vertices),
        components=len(components),
        holes=boundary_loops(mesh),
        watertight=bool(mesh.is_watertight),
        winding_consistent=bool(mesh.is_winding_consistent),
        volume_m3=volume,
        extents_m=tuple(float(e) for e in mesh.extents),  # type: ignore[arg-type]
    )


def combined(parts: list[Part]) -> Any:
    """All parts as one ``trimesh.Trimesh`` (materials dropped), for measuring."""
    import trimesh

    meshes = [trimesh.Trimesh(p.mesh.vertices, p.mesh.faces, process=False) for p in parts]
    return meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)


def check_mesh(path: str | Path) -> MeshStats:
    """Check that a mesh file reads back with triangles, and measure it (all parts together).

    Raises:
        BadOutput: unreadable or empty.
    """
    return measure(combined(load_parts(path)))
