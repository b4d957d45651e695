"""A studio :class:`Scene` as a Cycles job: raw mesh arrays, materials, lights, camera, backdrop.

Everything is converted here, in numpy, so the Blender-side script stays a plain builder:
Podium's Y-up frame becomes Blender's Z-up one ((x, y, z) -> (x, -z, y)), the product is turned
by its yaw exactly as the raster engine turns it, and the camera gets the raster engine's own
look-at (including its up vector when looking straight down), so both renderers frame alike.

Light units: the raster lamps do not fall off with distance; a Cycles disk light of power P at
distance d gives a white, facing diffuse surface a radiance of about P / (π² d²) — measured
with Blender 3.4 — so each lamp gets P = intensity · π² · d² to match at the product.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from podium.providers.local.mesh.export import PBR
from podium.providers.local.mesh.product import has_label, label_aspect, role_materials
from podium.providers.local.scene.camera import radius
from podium.providers.local.scene.labels import label_image
from podium.providers.local.scene.mesh import MeshPart
from podium.providers.local.scene.model import Scene
from podium.providers.local.scene.products import build_product

# Podium (x, y, z), Y up -> Blender (x, -z, y), Z up: a proper rotation about x.
TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def yaw_matrix(yaw_deg: float) -> NDArray[np.float64]:
    """The raster engine's turn of the product about the vertical axis."""
    a = math.radians(yaw_deg)
    return np.array(
        [[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0], [-math.sin(a), 0.0, math.cos(a)]]
    )


def blender_point(p: Any) -> list[float]:
    """A point of Podium's frame in Blender's."""
    return [float(v) for v in TO_BLENDER @ np.asarray(p, dtype=np.float64)]


def camera_to_world(scene: Scene) -> NDArray[np.float64]:
    """The camera's 4×4 world matrix in Podium's frame (GL convention: looks down -Z, Y up).

    The up vector follows the raster engine: world up, except when looking (almost) straight
    down, where the product's front goes to the bottom of the frame.
    """
    eye = np.asarray(scene.camera.position, dtype=np.float64)
    target = np.asarray(scene.camera.target, dtype=np.float64)
    fwd = target - eye
    fwd /= max(float(np.linalg.norm(fwd)), 1e-12)
    up = np.array([0.0, 1.0, 0.0])
    if abs(fwd[1]) > 0.97:
        flat = np.array([fwd[0], 0.0, fwd[2]])
        n = float(np.linalg.norm(flat))
        up = flat / n if n > 1e-6 else np.array([0.0, 0.0, -1.0])
    side = np.cross(fwd, up)
    side /= max(float(np.linalg.norm(side)), 1e-12)
    true_up = np.cross(side, fwd)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = side, true_up, -fwd, eye
    return m


def write_arrays(
    folder: Path, name: str, part: MeshPart, yaw: NDArray[np.float64]
) -> dict[str, Any]:
    """Write one part's arrays (turned, in Blender's frame) and describe them for the job."""
    rot = TO_BLENDER @ yaw
    files = {
        "positions": (part.vertices.astype(np.float64) @ rot.T).astype("<f4"),
        "normals": (part.normals.astype(np.float64) @ rot.T).astype("<f4"),
        "uvs": part.uvs.astype("<f4"),
        "indices": part.indices.astype("<i4"),
    }
    spec: dict[str, Any] = {
        "name": name,
        "vertices": len(part.vertices),
        "faces": len(part.indices),
    }
    for key, values in files.items():
        path = folder / f"{name}.{key}.bin"
        np.ascontiguousarray(values).tofile(path)
        spec[key] = str(path)
    return spec


def material_spec(pbr: PBR, anisotropy: float = 0.0, texture: Path | None = None) -> dict[str, Any]:
    """Principled BSDF inputs for one PBR material."""
    spec: dict[str, Any] = {
        "color": list(pbr.base_color[:3]),
        "metallic": pbr.metallic,
        "roughness": pbr.roughness,
        "transmission": 1.0 if pbr.transmission > 0 else 0.0,
        "ior": pbr.ior,
        "clearcoat": pbr.clearcoat,
        "anisotropic": anisotropy,
    }
    if pbr.transmission > 0:
        # thin glass: what shows through is tinted by the glass colour, lighter as it is clearer
        clear = 1.0 - pbr.base_color[3]
        spec["tint"] = [c * (0.55 + 0.35 * clear) for c in pbr.base_color[:3]]
    if texture is not None:
        spec["texture"] = str(texture)
    return spec


def product_meshes(scene: Scene, folder: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The product's parts and their materials, written under ``folder``."""
    pbrs = role_materials(scene)
    yaw = yaw_matrix(scene.product.yaw_deg)
    meshes, materials = [], {}
    for i, part in enumerate(build_product(scene.product.kind, scene.product.size)):
        if part.role == "label" and not has_label(scene):
            continue
        role = part.role if part.role in pbrs else "body"
        key = role
        if role == "label":
            texture = folder / f"label-{i}.png"
            label_image(scene.label, label_aspect(part)).convert("RGB").save(texture)
            key = f"label-{i}"
            materials[key] = material_spec(pbrs["label"], texture=texture)
        elif key not in materials:
            aniso = scene.material.anisotropy * 0.6 if role == "body" else 0.0
            materials[key] = material_spec(pbrs[role], anisotropy=aniso)
        spec = write_arrays(folder, f"{i:02d}-{part.name}", part, yaw)
        spec["material"] = key
        meshes.append(spec)
    return meshes, materials


def lights(scene: Scene) -> list[dict[str, Any]]:
    """Disk area lights matching the raster lamps at the product."""
    centre = np.array([0.0, scene.product.size[1] / 2, 0.0])
    out = []
    for i, light in enumerate(scene.lighting.lights):
        pos = np.asarray(light.position, dtype=np.float64)
        d = float(np.linalg.norm(pos - centre))
        out.append(
            {
                "name": f"lamp-{i}",
                "position": blender_point(pos),
                "target": blender_point(centre),
                "color": list(light.color),
                "power": light.intensity * math.pi**2 * d * d,
                "size": (0.15 + 0.6 * light.size) * d,
                "shadow": scene.shadows,
            }
        )
    return out


def world(scene: Scene) -> dict[str, Any]:
    """Ambient (diffuse bounces) and studio gradient (reflections), as the raster shades them."""
    bg, amb = scene.background, np.asarray(scene.lighting.ambient)
    floor = np.asarray(bg.floor)
    sky = 0.4 * np.asarray(bg.bottom) + 0.6 * np.asarray(bg.top)
    return {
        "ambient_low": list(floor * 0.6 + amb * 0.4),
        "ambient_high": list(amb * 1.6),
        "env_low": list(floor * 0.5),
        "env_high": list(sky * 1.1),
    }


def floor_mesh(scene: Scene) -> MeshPart:
    """The floor: a cyclorama for ``sweep``, else a wide plane (as the raster engine draws)."""
    r = radius(scene.product)
    if scene.background.kind != "sweep":
        e = r * 60.0
        v = np.array([[-e, 0, -e], [e, 0, -e], [e, 0, e], [-e, 0, e]], dtype=np.float32)
        return MeshPart(
            "floor",
            "floor",
            v,
            np.tile(np.array([0, 1, 0], dtype=np.float32), (4, 1)),
            np.zeros((4, 2), np.float32),
            np.array([[0, 2, 1], [0, 3, 2]], dtype=np.uint32),
        )
    depth, cove, wall, width = r * 5.0, r * 6.0, r * 40.0, r * 60.0
    prof = [(r * 40.0, 0.0), (-depth, 0.0)]
    prof += [
        (-depth - cove * math.sin(a), cove * (1 - math.cos(a)))
        for a in np.linspace(0, math.pi / 2, 16)[1:]
    ]
    prof.append((-depth - cove, wall))
    zy = np.array(prof)
    tang = np.gradient(zy, axis=0)
    nrm = np.stack([tang[:, 1], -tang[:, 0]], axis=1)  # (z, y) normal towards the product
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    nrm *= np.sign(nrm[0, 1]) or 1.0
    rows = len(zy)
    verts = np.zeros((2, rows, 3), dtype=np.float32)
    norms = np.zeros((2, rows, 3), dtype=np.float32)
    for i, x in enumerate((-width, width)):
        verts[i, :, 0], verts[i, :, 1], verts[i, :, 2] = x, zy[:, 1], zy[:, 0]
        norms[i, :, 1], norms[i, :, 2] = nrm[:, 1], nrm[:, 0]
    idx = [[r0, rows + r0, rows + r0 + 1] for r0 in range(rows - 1)]
    idx += [[r0, rows + r0 + 1, r0 + 1] for r0 in range(rows - 1)]
    return MeshPart(
        "sweep",
        "floor",
        verts.reshape(-1, 3),
        norms.reshape(-1, 3),
        np.zeros((2 * rows, 2), np.float32),
        np.array(idx, dtype=np.uint32),
    )


def room(scene: Scene) -> tuple[list[MeshPart], dict[str, dict[str, Any]]]:
    """The ``environment`` backdrop: back and side walls with a bright window, as the raster's
    room (walls 16 radii away, 14 high, the window left of centre on the back wall)."""
    from podium.providers.local.scene.mesh import quad

    r = radius(scene.product)
    w, h = r * 16.0, r * 14.0
    walls = [
        quad("wall-back", "wall", (0.0, h / 2, -w), (w, 0.0, 0.0), (0.0, h / 2, 0.0)),
        quad("wall-left", "wall", (-w, h / 2, 0.0), (0.0, 0.0, -w), (0.0, h / 2, 0.0)),
        quad("wall-right", "wall", (w, h / 2, 0.0), (0.0, 0.0, w), (0.0, h / 2, 0.0)),
        quad(
            "window",
            "window",
            (-0.35 * w, 0.5 * h, -w + r * 0.05),
            (0.3 * w, 0, 0),
            (0, 0.32 * h, 0),
        ),
    ]
    wall = [float(c) * 0.85 for c in scene.background.top]
    materials: dict[str, dict[str, Any]] = {
        "wall": {"color": wall, "roughness": 0.9},
        "window": {"color": [1.0, 1.0, 1.0], "emission": [1.15 * 2, 1.24 * 2, 1.4 * 2]},
    }
    return walls, materials


def build_job(
    scene: Scene,
    folder: Path,
    *,
    width: int,
    height: int,
    samples: int,
    mask_only: bool = False,
    threads: int = 0,
) -> Path:
    """Write the job (and its arrays and textures) for ``scene`` into ``folder``; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    meshes, materials = product_meshes(scene, folder)
    r = radius(scene.product)
    bg = scene.background
    cam = camera_to_world(scene)
    to_b = np.eye(4)
    to_b[:3, :3] = TO_BLENDER
    dist = float(np.linalg.norm(np.subtract(scene.camera.position, scene.camera.target)))
    camera: dict[str, Any] = {
        "matrix": (to_b @ cam).tolist(),
        "fov_deg": scene.camera.fov_deg,
        "near": max(dist * 0.02, 1e-3),
        "far": dist + 200 * r,
    }
    if scene.style.dof > 0 and not mask_only:
        camera["dof"] = {"focus": dist - r * 0.3, "fstop": 2.8 / max(scene.style.dof, 0.1)}
    job: dict[str, Any] = {
        "width": width,
        "height": height,
        "samples": samples,
        "seed": scene.seed,
        "threads": threads,
        "mask_only": mask_only,
        "exr": str(folder / "render.exr"),
        "raw": str(folder / "render.f32"),
        "materials": materials,
        "meshes": meshes,
        "lights": lights(scene),
        "world": world(scene),
        "camera": camera,
        "floor": write_arrays(folder, "floor", floor_mesh(scene), np.eye(3)),
        "floor_material": {
            "floor": list(bg.floor),
            "wall": list(bg.top),
            "blend_height": r * 6.0 if bg.kind == "sweep" else 1e9,
            "reflectivity": bg.reflectivity if scene.reflections else 0.0,
            # on a plain backdrop the floor fades out between 3 r and 14 r, as the raster's does
            "fade": [3 * r, 14 * r] if bg.kind in ("solid", "gradient") else None,
        },
    }
    if bg.kind == "environment" and not mask_only:
        walls, wall_materials = room(scene)
        job["materials"].update(wall_materials)
        job["set"] = []
        for part in walls:
            spec = write_arrays(folder, part.name, part, np.eye(3))
            spec["material"] = part.role
            job["set"].append(spec)
    path = folder / "job.json"
    path.write_text(json.dumps(job), encoding="utf-8")
    return path
