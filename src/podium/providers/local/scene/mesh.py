"""Triangle-mesh building blocks for the product library: lathes, extrusions and tubes.

Every builder returns a :class:`MeshPart` in metres, y up, the product's front facing +z.
Sharp creases come from repeating a profile point (the two copies get the normals of their own
sides), so one profile describes both smooth shoulders and hard rims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class MeshPart:
    """One part of a product: a triangle mesh with one material role.

    Attributes:
        name: the part's name (``body``, ``cap``, ``label`` ...).
        role: which material it takes: ``body`` (the scene's material), ``accent`` (caps,
            lids: the material's accent), ``label`` (the label texture), ``screen``, ``inner``.
        vertices: (N, 3) float32 positions in metres.
        normals: (N, 3) float32 unit normals.
        uvs: (N, 2) float32 texture coordinates (v up).
        indices: (M, 3) uint32 triangles, counter-clockwise seen from outside.
    """

    name: str
    role: str
    vertices: F32
    normals: F32
    uvs: F32
    indices: NDArray[np.uint32]

    def transformed(self, matrix: NDArray[np.float64], offset: Sequence[float]) -> MeshPart:
        """This part rotated by the 3×3 ``matrix`` then moved by ``offset``."""
        m = np.asarray(matrix, dtype=np.float64)
        v = self.vertices @ m.T + np.asarray(offset, dtype=np.float64)
        n = self.normals @ m.T
        return MeshPart(
            self.name,
            self.role,
            v.astype(np.float32),
            _unit(n),
            self.uvs,
            self.indices,
        )


def _unit(v: NDArray[np.float64] | F32) -> F32:
    length = np.linalg.norm(v, axis=-1, keepdims=True)
    out: F32 = (v / np.maximum(length, 1e-12)).astype(np.float32)
    return out


def _grid_indices(cols: int, rows: int) -> NDArray[np.uint32]:
    """Two triangles per cell of a (cols+1) × (rows+1) vertex grid laid out column-major."""
    c, r = np.meshgrid(np.arange(cols), np.arange(rows), indexing="ij")
    a = c * (rows + 1) + r
    b = (c + 1) * (rows + 1) + r
    tris = np.stack([a, b, b + 1, a, b + 1, a + 1], axis=-1).reshape(-1, 3)
    return tris.astype(np.uint32)


def grid(
    name: str, role: str, verts: NDArray[Any], norms: NDArray[Any], uvs: NDArray[Any]
) -> MeshPart:
    """A part from a (cols+1, rows+1) grid of vertices, normals and uvs."""
    cols, rows = verts.shape[0] - 1, verts.shape[1] - 1
    return MeshPart(
        name,
        role,
        verts.reshape(-1, 3).astype(np.float32),
        _unit(norms.reshape(-1, 3)),
        uvs.reshape(-1, 2).astype(np.float32),
        _grid_indices(cols, rows),
    )


def _profile_normals(prof: NDArray[np.float64]) -> NDArray[np.float64]:
    """2D outward normals (nr, ny) of a lathe profile; a repeated point makes a crease."""
    edges = np.diff(prof, axis=0)
    length = np.linalg.norm(edges, axis=1)
    en = np.stack([edges[:, 1], -edges[:, 0]], axis=1) / np.maximum(length, 1e-12)[:, None]
    valid = length > 1e-9
    out = np.zeros_like(prof)
    for i in range(len(prof)):
        acc = np.zeros(2)
        if i > 0 and valid[i - 1]:
            acc += en[i - 1]
        if i < len(edges) and valid[i]:
            acc += en[i]
        out[i] = acc / max(float(np.linalg.norm(acc)), 1e-12)
    return out


def lathe(
    name: str,
    role: str,
    profile: Sequence[tuple[float, float]],
    *,
    segments: int = 64,
    arc: tuple[float, float] = (-np.pi, np.pi),
    squash: float = 1.0,
) -> MeshPart:
    """A surface of revolution about the y axis.

    Args:
        name: part name.
        role: material role.
        profile: (radius, y) points from bottom to top; repeat a point for a crease.
        segments: steps around the axis.
        arc: angle range in radians; 0 faces +z (the front), +angle turns towards +x.
        squash: depth scale (z), for oval products.
    """
    prof = np.asarray(profile, dtype=np.float64)
    n2 = _profile_normals(prof)
    theta = np.linspace(arc[0], arc[1], segments + 1)
    s, c = np.sin(theta)[:, None], np.cos(theta)[:, None]
    r, y = prof[:, 0][None, :], prof[:, 1][None, :]
    verts = np.stack([r * s, np.broadcast_to(y, (len(theta), len(prof))), r * c * squash], axis=-1)
    nr, ny = n2[:, 0][None, :], n2[:, 1][None, :]
    norms = np.stack(
        [nr * s, np.broadcast_to(ny, (len(theta), len(prof))), nr * c / max(squash, 1e-6)],
        axis=-1,
    )
    arclen = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(prof, axis=0), axis=1))])
    v = arclen / max(arclen[-1], 1e-12)
    u = (theta - arc[0]) / (arc[1] - arc[0])
    uvs = np.stack(np.meshgrid(u, v, indexing="ij"), axis=-1)
    return MeshPart(
        name,
        role,
        verts.reshape(-1, 3).astype(np.float32),
        _unit(norms.reshape(-1, 3)),
        uvs.reshape(-1, 2).astype(np.float32),
        _grid_indices(len(theta) - 1, len(prof) - 1),
    )


def rounded_rect(width: float, depth: float, radius: float, steps: int = 8) -> NDArray[np.float64]:
    """A counter-clockwise rounded rectangle outline in the (x, z) plane, seen from above."""
    radius = min(radius, width / 2 - 1e-4, depth / 2 - 1e-4)
    hx, hz = width / 2 - radius, depth / 2 - radius
    pts: list[tuple[float, float]] = []
    # corners in order +x+z, +x-z, -x-z, -x+z walk clockwise in (x, z) = counter-clockwise
    # seen from +y, because z points towards the viewer.
    for cx, cz, start in ((hx, hz, 0.0), (hx, -hz, 0.5), (-hx, -hz, 1.0), (-hx, hz, 1.5)):
        for k in range(steps + 1):
            a = (start + 0.5 * k / steps) * np.pi
            pts.append((cx + radius * np.sin(a), cz + radius * np.cos(a)))
    return np.asarray(pts)


def extrude(
    name: str,
    role: str,
    outline: NDArray[np.float64],
    y0: float,
    y1: float,
    *,
    caps: bool = True,
    taper: float = 1.0,
) -> list[MeshPart]:
    """A vertical prism over a convex (x, z) outline from ``y0`` to ``y1``.

    Args:
        name: part name.
        role: material role.
        outline: (K, 2) convex outline, as from :func:`rounded_rect`.
        y0: bottom.
        y1: top.
        caps: close the bottom and top.
        taper: scale of the top outline relative to the bottom.
    """
    k = len(outline)
    ring = np.vstack([outline, outline[:1]])
    top = ring * taper
    edges = np.diff(ring, axis=0)
    en = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
    en /= np.maximum(np.linalg.norm(en, axis=1, keepdims=True), 1e-12)
    vn = en + np.roll(en, 1, axis=0)
    vn = np.vstack([vn, vn[:1]])
    slope = (1.0 - taper) * np.linalg.norm(outline, axis=1).mean() / max(y1 - y0, 1e-6)
    per = np.concatenate([[0.0], np.cumsum(np.linalg.norm(edges, axis=1))])
    u = per / per[-1]
    verts = np.zeros((k + 1, 2, 3))
    verts[:, 0] = np.stack([ring[:, 0], np.full(k + 1, y0), ring[:, 1]], axis=1)
    verts[:, 1] = np.stack([top[:, 0], np.full(k + 1, y1), top[:, 1]], axis=1)
    norms = np.zeros((k + 1, 2, 3))
    side = np.stack([vn[:, 0], np.full(k + 1, slope), vn[:, 1]], axis=1)
    norms[:, 0] = side
    norms[:, 1] = side
    uvs = np.stack(np.meshgrid(u, [0.0, 1.0], indexing="ij"), axis=-1)
    parts = [
        MeshPart(
            name,
            role,
            verts.reshape(-1, 3).astype(np.float32),
            _unit(norms.reshape(-1, 3)),
            uvs.reshape(-1, 2).astype(np.float32),
            _grid_indices(k, 1).copy(),
        )
    ]
    if caps:
        parts.append(_cap(name + "-bottom", role, outline, y0, down=True))
        parts.append(_cap(name + "-top", role, outline * taper, y1, down=False))
    return parts


def _cap(name: str, role: str, outline: NDArray[np.float64], y: float, *, down: bool) -> MeshPart:
    k = len(outline)
    centre = outline.mean(axis=0)
    pts = np.vstack([centre, outline])
    verts = np.stack([pts[:, 0], np.full(k + 1, y), pts[:, 1]], axis=1)
    norms = np.tile([0.0, -1.0 if down else 1.0, 0.0], (k + 1, 1))
    span = np.maximum(np.ptp(outline, axis=0), 1e-6)
    uvs = (pts - outline.min(axis=0)) / span
    i = np.arange(1, k + 1)
    j = np.where(i == k, 1, i + 1)
    order = [i, j] if not down else [j, i]
    tris = np.stack([np.zeros(k, dtype=int), *order], 1)
    return MeshPart(
        name,
        role,
        verts.astype(np.float32),
        _unit(norms),
        uvs.astype(np.float32),
        tris.astype(np.uint32),
    )


def sweep_tube(
    name: str, role: str, path: NDArray[np.float64], radius: float, sides: int = 16
) -> MeshPart:
    """A tube of circular section swept along a 3D polyline (a mug's handle)."""
    n = len(path)
    tang = np.gradient(path, axis=0)
    tang /= np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-12)
    ref = np.array([0.0, 0.0, 1.0])
    side = np.cross(tang, ref)
    side /= np.maximum(np.linalg.norm(side, axis=1, keepdims=True), 1e-12)
    up = np.cross(side, tang)
    a = np.linspace(0, 2 * np.pi, sides + 1)
    ca, sa = np.cos(a)[None, :, None], np.sin(a)[None, :, None]
    norms = ca * side[:, None, :] + sa * up[:, None, :]
    verts = path[:, None, :] + radius * norms
    uvs = np.stack(np.meshgrid(np.linspace(0, 1, n), a / (2 * np.pi), indexing="ij"), axis=-1)
    return MeshPart(
        name,
        role,
        verts.reshape(-1, 3).astype(np.float32),
        _unit(norms.reshape(-1, 3)),
        uvs.reshape(-1, 2).astype(np.float32),
        _grid_indices(n - 1, sides).copy(),
    )


def quad(
    name: str,
    role: str,
    centre: Sequence[float],
    right: Sequence[float],
    up: Sequence[float],
) -> MeshPart:
    """A rectangle spanning ``centre ± right ± up``, facing ``right × up``."""
    c, r, u = (np.asarray(x, dtype=np.float64) for x in (centre, right, up))
    verts = np.array([c - r - u, c + r - u, c + r + u, c - r + u])
    n = np.cross(r, u)
    return MeshPart(
        name,
        role,
        verts.astype(np.float32),
        _unit(np.tile(n, (4, 1))),
        np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float32),
        np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32),
    )
