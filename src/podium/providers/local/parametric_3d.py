"""``local/parametric-3d``: ``text-to-3d`` from the studio's product library, as a GLB.

The prompt's ``subject`` picks the product (and its brand text), ``material`` its material and
colour — read exactly as the studio renderer reads them, so the asset matches the stills —
and ``style`` its finish: ``low-poly`` decimates to a small budget with flat shading, anything
else keeps the smooth parametric surface. The GLB is in metres, Y up, the product standing on
the origin with its label facing +Z; materials are glTF metallic-roughness with transmission
for glass and clearcoat for gloss, the label an embedded texture. The scene it was built from
rides in the artifact's metadata (``scene``), so a studio step can render the same product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.errors import InvalidInput
from podium.media.mesh import check_mesh
from podium.providers.base import OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.providers.local.mesh.export import write_glb
from podium.providers.local.mesh.product import extensions, product_parts
from podium.providers.local.scene import scene_from_prompt
from podium.providers.local.scene.products import build_product
from podium.spec.vocabulary import ArtifactType

LOW_POLY_FACES = 600
LOW_POLY_WORDS = ("low-poly", "low poly", "lowpoly", "faceted")


def prompt_fields(request: Request) -> dict[str, Any]:
    """The 3D prompt's fields (a plain string is the subject)."""
    if isinstance(request.prompt, Mapping):
        return {k: v for k, v in request.prompt.items() if v not in (None, "")}
    if isinstance(request.prompt, str) and request.prompt.strip():
        return {"subject": request.prompt}
    raise InvalidInput(
        "text-to-3d needs a subject",
        where=f"step {request.step_id}",
        hint="give the step `prompt: {subject: ..., material: ..., style: ...}`",
    )


def face_budget(request: Request, style: str) -> int | None:
    """The face budget: ``params.faces``, else a small one for a low-poly style."""
    raw = request.params.get("faces")
    if raw is None:
        return LOW_POLY_FACES if any(w in style for w in LOW_POLY_WORDS) else None
    try:
        faces = int(raw)
    except (TypeError, ValueError):
        faces = 0
    if faces < 50:
        raise InvalidInput(
            f"faces must be a whole number of at least 50, not {raw!r}",
            where=f"step {request.step_id}",
            hint="set params.faces to the most triangles the asset may have, e.g. 2000",
        )
    return faces


def decimate_parts(parts: list[Any], faces: int, *, flat: bool = False) -> list[Any]:
    """Cut the untextured parts' faces so the whole stays within ``faces`` where it can.

    Labels keep their UV-mapped triangles (decimation would tear the texture); the other parts
    share what is left of the budget in proportion to their size; ``flat`` shades facets flat.
    """
    from podium.providers.local.mesh.repair import budgets

    textured = [p for p in parts if getattr(p.material, "baseColorTexture", None) is not None]
    rest = [p for p in parts if p not in textured]
    target = max(len(rest) * 8, faces - sum(len(p.mesh.faces) for p in textured))
    for _ in range(3):  # QEM stops short of a target on seams: aim lower and try again
        total = sum(len(p.mesh.faces) for p in rest)
        if total <= target:
            break
        shares = budgets([len(p.mesh.faces) for p in rest], target * target // total)
        for part, share in zip(rest, shares, strict=True):
            if len(part.mesh.faces) > share:
                material = part.material
                # seams and creases stay (welding them lets QEM drag rims outwards)
                part.mesh = part.mesh.simplify_quadric_decimation(face_count=max(4, share))
                part.material = material
    if flat:
        for part in rest:
            part.mesh.unmerge_vertices()  # no normal shared across a facet edge
    return parts


class Parametric3DEngine(Engine):
    """Writes the studio's products as GLB assets."""

    name = "parametric-3d"

    def run(self, request: Request, report: Reporter) -> Result:
        fields = prompt_fields(request)
        scene = scene_from_prompt(fields, request.params, request.seed)
        style = str(fields.get("style") or "").lower()
        budget = face_budget(request, style)
        mesh_parts = build_product(scene.product.kind, scene.product.size)
        parts = product_parts(scene, mesh_parts)
        if budget is not None:
            low_poly = any(w in style for w in LOW_POLY_WORDS)
            parts = decimate_parts(parts, budget, flat=low_poly)
        out = write_glb(
            parts,
            request.work_dir / "asset.glb",
            extensions=extensions(scene),
            extras={"units": "m", "up": "+Y", "front": "+Z", "product": scene.product.kind},
        )
        stats = check_mesh(out)
        metadata: dict[str, Any] = {
            "product": scene.product.kind,
            "material": scene.material.name,
            "faces": stats.faces,
            "parts": [p.name for p in parts],
            "extents_m": list(stats.extents_m),
            "units": "m",
            "watertight": stats.watertight,
            "scene": scene.to_dict(),
        }
        return Result(outputs=[OutputFile(ArtifactType.MESH, out, metadata)])


ENGINE = Parametric3DEngine()
