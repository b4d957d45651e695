"""The moderngl side of the studio: one headless GL context per process, its programs, and
GPU copies of meshes and label textures, all kept warm between frames and requests.

Mesa's EGL (llvmpipe) gives a GL 4.5 context without a display or a GPU; the context and
compiled programs live in module state of the worker process that renders.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import moderngl
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from podium.providers.local.scene import shaders
from podium.providers.local.scene.labels import label_image, screen_image
from podium.providers.local.scene.mesh import MeshPart
from podium.providers.local.scene.model import Label
from podium.providers.local.scene.products import build_product

_CONTEXT: dict[str, Any] = {}
# programs that draw over the whole screen rather than a mesh
FULLSCREEN = ("backdrop", "grade", "grade_fxaa", "floor_bake")
# the floor's reach and the sweep's profile, in product radii (the light map inverts them)
FLOOR_REACH, SWEEP_DEPTH, SWEEP_COVE = 60.0, 5.0, 6.0


class GLUnavailable(RuntimeError):
    """No headless GL context can be created here."""


def context() -> moderngl.Context:
    """This process's headless GL context (created once)."""
    ctx = _CONTEXT.get("ctx")
    if ctx is None:
        errors = []
        for backend in ("egl", None):
            try:
                kwargs: dict[str, Any] = {"backend": backend} if backend else {}
                ctx = moderngl.create_standalone_context(require=330, **kwargs)
                break
            except Exception as exc:  # no EGL: try the default (GLX/OSMesa) backend
                errors.append(f"{backend or 'default'}: {exc}")
        if ctx is None:
            raise GLUnavailable("; ".join(errors))
        _CONTEXT["ctx"] = ctx
    return ctx  # type: ignore[no-any-return]


def gl_problem() -> str | None:
    """Why no GL context can be made here (``None`` if one can)."""
    try:
        context()
    except GLUnavailable as exc:
        return f"no headless OpenGL 3.3 context (EGL/Mesa): {exc}; install libegl1 libgl1-mesa-dri"
    return None


@functools.cache
def programs() -> dict[str, moderngl.Program]:
    """The compiled programs, by name."""
    ctx = context()
    return {
        "product": ctx.program(
            vertex_shader=shaders.VERTEX, fragment_shader=shaders.PRODUCT_FRAGMENT
        ),
        "floor": ctx.program(vertex_shader=shaders.VERTEX, fragment_shader=shaders.FLOOR_FRAGMENT),
        "floor_mapped": ctx.program(
            vertex_shader=shaders.VERTEX, fragment_shader=shaders.FLOOR_MAPPED_FRAGMENT
        ),
        "floor_bake": ctx.program(
            vertex_shader=shaders.BACKDROP_VERTEX, fragment_shader=shaders.FLOOR_BAKE_FRAGMENT
        ),
        "shadow": ctx.program(
            vertex_shader=shaders.VERTEX, fragment_shader=shaders.SHADOW_FRAGMENT
        ),
        "depth": ctx.program(
            vertex_shader=shaders.DEPTH_VERTEX, fragment_shader=shaders.DEPTH_FRAGMENT
        ),
        "backdrop": ctx.program(
            vertex_shader=shaders.BACKDROP_VERTEX, fragment_shader=shaders.BACKDROP_FRAGMENT
        ),
        "grade": ctx.program(
            vertex_shader=shaders.BACKDROP_VERTEX,
            fragment_shader=shaders.GRADE_FRAGMENT.replace("{fxaa}", "0"),
        ),
        "grade_fxaa": ctx.program(
            vertex_shader=shaders.BACKDROP_VERTEX,
            fragment_shader=shaders.GRADE_FRAGMENT.replace("{fxaa}", "1"),
        ),
    }


@dataclass
class GpuPart:
    """A mesh part uploaded to the GPU, with a VAO per program that draws it."""

    part: MeshPart
    vaos: dict[str, moderngl.VertexArray]
    label_aspect: float


def upload(part: MeshPart) -> GpuPart:
    """Upload one mesh part and bind it to every mesh program."""
    ctx = context()
    data = np.hstack([part.vertices, part.normals, part.uvs]).astype("f4")
    vbo = ctx.buffer(data.tobytes())
    ibo = ctx.buffer(part.indices.astype("u4").tobytes())
    vaos = {}
    for name, prog in programs().items():
        if name in FULLSCREEN:
            continue
        wanted = [a for a in ("in_pos", "in_nrm", "in_uv") if a in prog]
        layout = " ".join("3f" if a != "in_uv" else "2f" for a in wanted)
        fmt = _format(wanted)
        vaos[name] = ctx.vertex_array(prog, [(vbo, fmt, *wanted)], index_buffer=ibo)
        del layout
    return GpuPart(part, vaos, uv_aspect(part))


def _format(attrs: list[str]) -> str:
    sizes = {"in_pos": "3f", "in_nrm": "3f", "in_uv": "2f"}
    parts = []
    for name in ("in_pos", "in_nrm", "in_uv"):
        parts.append(sizes[name] if name in attrs else sizes[name][0] + "x4")
    return " ".join(parts)


def uv_aspect(part: MeshPart) -> float:
    """Width / height of the part's texture as laid on its surface (for undistorted labels)."""
    tri = part.indices
    p = part.vertices[tri].astype(np.float64)
    t = part.uvs[tri].astype(np.float64)
    dp = np.stack([p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]], axis=2)  # (M, 3, 2)
    dt = np.stack([t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]], axis=2)  # (M, 2, 2)
    det = np.linalg.det(dt)
    ok = np.abs(det) > 1e-12
    if not ok.any():
        return 1.0
    jac = dp[ok] @ np.linalg.inv(dt[ok])  # dP/du, dP/dv
    su = np.linalg.norm(jac[:, :, 0], axis=1).mean()
    sv = np.linalg.norm(jac[:, :, 1], axis=1).mean()
    return float(su / max(sv, 1e-9))


_PRODUCTS: dict[tuple[str, tuple[float, float, float]], list[GpuPart]] = {}
_TEXTURES: dict[tuple[Label, int, str], moderngl.Texture] = {}


def product_parts(kind: str, size: tuple[float, float, float]) -> list[GpuPart]:
    """The product's parts on the GPU (built and uploaded once per process)."""
    key = (kind, (round(size[0], 6), round(size[1], 6), round(size[2], 6)))
    if key not in _PRODUCTS:
        _PRODUCTS[key] = [upload(p) for p in build_product(kind, size)]
    return _PRODUCTS[key]


@functools.cache
def product_bounds(
    kind: str, size: tuple[float, float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The product's bounding box in its own frame: (lowest corner, highest corner)."""
    points = np.concatenate([p.part.vertices for p in product_parts(kind, size)])
    return points.min(axis=0).astype(np.float64), points.max(axis=0).astype(np.float64)


def label_texture(label: Label, aspect: float, role: str = "label") -> moderngl.Texture:
    """The label's texture (or a phone's screen) for an area of ``aspect`` (cached)."""
    key = (label, int(aspect * 20), role)
    tex = _TEXTURES.get(key)
    if tex is None:
        draw = screen_image if role == "screen" else label_image
        img = draw(label, aspect).transpose(
            Image.Transpose.FLIP_TOP_BOTTOM
        )  # GL's first row is the bottom one
        tex = context().texture(img.size, 4, img.tobytes())
        tex.build_mipmaps()
        tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        tex.anisotropy = 8.0
        if len(_TEXTURES) > 32:
            _TEXTURES.pop(next(iter(_TEXTURES))).release()
        _TEXTURES[key] = tex
    return tex


@functools.cache
def fullscreen(program: str = "backdrop") -> moderngl.VertexArray:
    """A triangle covering the screen, drawn with ``program`` (the backdrop, the grade)."""
    ctx = context()
    vbo = ctx.buffer(np.array([-1, -1, 3, -1, -1, 3], dtype="f4").tobytes())
    return ctx.vertex_array(programs()[program], [(vbo, "2f", "in_pos")])


_FLOORS: dict[tuple[int, float], GpuPart] = {}


def floor_part(kind: int, radius: float) -> GpuPart:
    """The floor (a plane) or, for the sweep, a floor curving up into a back wall."""
    key = (kind, round(radius, 6))
    if key not in _FLOORS:
        _FLOORS[key] = upload(_sweep(radius) if kind == 2 else _plane(radius * FLOOR_REACH))
    return _FLOORS[key]


def _plane(extent: float, cells: int = 24) -> MeshPart:
    """A square floor ``2 * extent`` wide, in ``cells``² quads: llvmpipe's single-sampled
    rasteriser can stall on a pair of triangles a hundred product-widths across."""
    ticks = np.linspace(-extent, extent, cells + 1, dtype=np.float32)
    xs, zs = np.meshgrid(ticks, ticks)
    v = np.stack([xs.ravel(), np.zeros(xs.size, dtype=np.float32), zs.ravel()], axis=1)
    n = np.tile(np.array([0, 1, 0], dtype=np.float32), (len(v), 1))
    uv = (v[:, [0, 2]] / (2 * extent) + 0.5).astype(np.float32)
    return MeshPart("floor", "floor", v, n, uv, _grid(cells, cells + 1))


def _grid(rows: int, cols: int) -> NDArray[np.uint32]:
    """Counter-clockwise (seen from +y / the product) triangles of a ``rows`` × ``cols``-1 grid of
    vertices laid out row-major with ``cols`` a row."""
    r, c = np.meshgrid(np.arange(rows), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, d = a + cols, a + 1
    return np.concatenate([np.stack([a, b, b + 1], 1), np.stack([a, b + 1, d], 1)]).astype(
        np.uint32
    )


def _sweep(radius: float, cells: int = 24) -> MeshPart:
    """A cyclorama: flat floor, a quarter-circle cove, then a tall back wall (in small quads,
    as :func:`_plane`)."""
    depth, cove = radius * SWEEP_DEPTH, radius * SWEEP_COVE
    wall, width = radius * 40.0, radius * FLOOR_REACH
    prof = [(z, 0.0) for z in np.linspace(radius * 40.0, -depth, 13)]
    for a in np.linspace(0, np.pi / 2, 16)[1:]:
        prof.append((-depth - cove * np.sin(a), cove * (1 - np.cos(a))))
    prof += [(-depth - cove, y) for y in np.linspace(cove, wall, 13)[1:]]
    zy = np.array(prof)
    tang = np.gradient(zy, axis=0)
    nrm = np.stack([tang[:, 1], -tang[:, 0]], axis=1)  # (z, y) normal facing the product
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    nrm *= np.sign(nrm[0, 1]) if nrm[0, 1] != 0 else 1.0
    rows = len(zy)
    xs = np.linspace(-width, width, cells + 1)
    verts = np.zeros((len(xs), rows, 3), dtype=np.float32)
    norms = np.zeros((len(xs), rows, 3), dtype=np.float32)
    verts[:, :, 0] = xs[:, None]
    verts[:, :, 1] = zy[None, :, 1]
    verts[:, :, 2] = zy[None, :, 0]
    norms[:, :, 1] = nrm[None, :, 1]
    norms[:, :, 2] = nrm[None, :, 0]
    uvs = np.zeros((len(xs), rows, 2), dtype=np.float32)
    return MeshPart(
        "sweep",
        "floor",
        verts.reshape(-1, 3),
        norms.reshape(-1, 3),
        uvs.reshape(-1, 2),
        _grid(cells, rows),
    )
