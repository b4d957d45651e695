"""Making meshes watertight with consistent normals, and decimating them to a face budget.

pymeshfix (MeshFix) closes holes and removes self-intersections, but it keeps only the largest
connected component and wants contiguous float64 vertices and int32 faces. So each part is
split into its components, each component is fixed on its own, and the closed ones are put
back together; components MeshFix cannot close (open sheets, lines, specks) are dropped and
counted in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.media.mesh import Part, boundary_loops


def _repair_module() -> Any:
    # trimesh.repair is untyped; reach it through Any so strict mypy accepts the calls
    import trimesh.repair

    return trimesh.repair


# Components with fewer faces than this are dust: nothing MeshFix could close.
MIN_COMPONENT_FACES = 4
# Pieces this small are never decimated.
MIN_DECIMATE_FACES = 32


@dataclass
class RepairLog:
    """What a repair did, summed over parts.

    Attributes:
        holes_filled: boundary loops found before (each is closed by the repair).
        normals_flipped: faces whose winding disagreed with their neighbours and was turned.
        components_kept: closed components in the output.
        components_dropped: components that could not be closed and were left out.
        decimated: whether a face budget reduced the mesh.
        notes: one line per noteworthy event, for the report.
    """

    holes_filled: int = 0
    normals_flipped: int = 0
    components_kept: int = 0
    components_dropped: int = 0
    decimated: bool = False
    notes: list[str] = field(default_factory=list)


def _meshfix(mesh: Any) -> Any | None:
    """One component through MeshFix; ``None`` if it cannot be closed."""
    import pymeshfix
    import trimesh

    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int32)
    fixer = pymeshfix.MeshFix(vertices, faces)
    fixer.repair()
    if len(fixer.faces) == 0:
        return None
    fixed = trimesh.Trimesh(np.asarray(fixer.points), np.asarray(fixer.faces), process=True)
    if not fixed.is_watertight:
        return None
    repair = _repair_module()
    repair.fix_normals(fixed)  # outward: positive volume
    return fixed


def count_flipped(component: Any) -> int:
    """Faces of one connected component whose winding disagrees with the majority."""
    import trimesh

    probe = trimesh.Trimesh(component.vertices, component.faces, process=False)
    before = np.asarray(probe.faces).copy()
    repair = _repair_module()
    repair.fix_winding(probe)  # turns faces to agree with the first one it visits
    changed = int((before != np.asarray(probe.faces)).any(axis=1).sum())
    # if the first face visited was itself a flipped one, the others were "changed"
    return min(changed, len(before) - changed)


def close_part(part: Part, log: RepairLog) -> Part | None:
    """Close every component of ``part``; ``None`` if nothing could be closed."""
    import trimesh

    mesh = part.mesh.copy()
    # weld by position alone: seams of UVs and hard normals would otherwise stay open cracks
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.update_faces(mesh.unique_faces())
    mesh.remove_unreferenced_vertices()
    log.holes_filled += boundary_loops(mesh)
    closed = []
    for component in mesh.split(only_watertight=False):
        log.normals_flipped += count_flipped(component)
        if len(component.faces) < MIN_COMPONENT_FACES:
            log.components_dropped += 1
            continue
        fixed = _meshfix(component)
        if fixed is None:
            log.components_dropped += 1
            log.notes.append(
                f"{part.name}: dropped a {len(component.faces)}-face component that cannot be "
                "closed (an open sheet?)"
            )
            continue
        closed.append(fixed)
    if not closed:
        return None
    log.components_kept += len(closed)
    merged = closed[0] if len(closed) == 1 else trimesh.util.concatenate(closed)
    return Part(name=part.name, mesh=merged, material=part.material)


def budgets(sizes: list[int], faces: int) -> list[int]:
    """Share a face budget among pieces of ``sizes`` faces, in proportion, leaving small pieces
    whole (a 12-face box cannot lose faces without caving in)."""
    small = max(MIN_DECIMATE_FACES, faces // (4 * max(1, len(sizes))))
    fixed = sum(n for n in sizes if n <= small)
    large = sum(n for n in sizes if n > small)
    left = max(0, faces - fixed)
    return [n if n <= small else max(small, left * n // max(1, large)) for n in sizes]


def decimate(part: Part, faces: int, log: RepairLog) -> Part:
    """Reduce ``part`` to about ``faces`` triangles, then close it again if that opened it."""
    import trimesh

    if len(part.mesh.faces) <= faces:
        return part
    components = part.mesh.split(only_watertight=False)
    shares = budgets([len(c.faces) for c in components], faces)
    pieces = []
    for component, share in zip(components, shares, strict=True):
        if len(component.faces) > share:
            component = component.simplify_quadric_decimation(face_count=share)
            if not component.is_watertight:
                component = _meshfix(component) or component
        pieces.append(component)
    merged = pieces[0] if len(pieces) == 1 else trimesh.util.concatenate(pieces)
    repair = _repair_module()
    repair.fix_normals(merged, multibody=True)
    log.decimated = True
    return Part(name=part.name, mesh=merged, material=part.material)


def repair_parts(parts: list[Part], *, faces: int | None = None) -> tuple[list[Part], RepairLog]:
    """Watertight, outward-facing parts, within ``faces`` triangles in all when given."""
    log = RepairLog()
    closed = [c for c in (close_part(p, log) for p in parts) if c is not None]
    if faces is not None and closed:
        sizes = [len(p.mesh.faces) for p in closed]
        if sum(sizes) > faces:
            shares = budgets(sizes, faces)
            closed = [decimate(p, share, log) for p, share in zip(closed, shares, strict=True)]
    return closed, log
