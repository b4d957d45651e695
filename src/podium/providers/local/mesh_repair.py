"""``local/mesh-repair``: any GLB/glTF/OBJ/STL/PLY -> a watertight GLB with outward normals.

Every connected component is closed by MeshFix on its own (it would otherwise keep only the
largest), faces are turned to agree and point outward, and an optional ``faces`` budget
decimates by quadric error and closes again. Materials survive by their factors (colour,
metal, roughness); textures do not, since the repaired surface has no UVs. The output's
metadata carries a before/after report.
"""

from __future__ import annotations

from typing import Any

from podium.errors import InvalidInput
from podium.media.mesh import check_mesh, combined, load_parts, measure
from podium.providers.base import OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.providers.local.mesh.export import factors_only, write_glb
from podium.providers.local.mesh.repair import repair_parts
from podium.spec.vocabulary import ArtifactType


def face_budget(request: Request) -> int | None:
    """The ``faces`` param, checked."""
    raw = request.params.get("faces")
    if raw is None:
        return None
    try:
        faces = int(raw)
    except (TypeError, ValueError):
        faces = 0
    if faces < 12:
        raise InvalidInput(
            f"faces must be a whole number of at least 12, not {raw!r}",
            where=f"step {request.step_id}",
            hint="set params.faces to the most triangles the mesh may keep, e.g. 5000",
        )
    return faces


class MeshRepairEngine(Engine):
    """Closes holes, fixes normals and decimates meshes."""

    name = "mesh-repair"

    def run(self, request: Request, report: Reporter) -> Result:
        source = request.single("mesh")
        where = f"step {request.step_id}"
        if source is None:
            raise InvalidInput("no mesh to repair", where=where, hint="set inputs.mesh")
        budget = face_budget(request)
        try:
            parts = load_parts(source.path, units=str(request.params.get("units", "m")))
        except InvalidInput as exc:
            exc.where = where
            raise
        before = measure(combined(parts))
        fixed, log = repair_parts(parts, faces=budget)
        if not fixed:
            raise InvalidInput(
                f"{source.path.name} has no surface that can be closed",
                where=where,
                hint="mesh-repair needs solids with holes, not lines, points or flat sheets",
            )
        for part in fixed:
            part.material = factors_only(part.material)
        out = write_glb(fixed, request.work_dir / "mesh.glb", extras={"units": "m"})
        after = check_mesh(out)
        summary: dict[str, Any] = {
            "before": before.to_dict(),
            "after": after.to_dict(),
            "holes_filled": log.holes_filled,
            "normals_flipped": log.normals_flipped,
            "components_kept": log.components_kept,
            "components_dropped": log.components_dropped,
            "decimated": log.decimated,
            "notes": log.notes,
        }
        metadata = {
            "watertight": after.watertight,
            "volume_m3": round(after.volume_m3, 9),
            "faces_before": before.faces,
            "faces_after": after.faces,
            "holes_filled": log.holes_filled,
            "report": summary,
        }
        return Result(outputs=[OutputFile(ArtifactType.MESH, out, metadata)])


ENGINE = MeshRepairEngine()
