"""The product library: parametric triangle meshes with distinct silhouettes, in metres.

Each product stands on the floor (y = 0), centred on the y axis, its front (where the label
goes) facing +z. :func:`build_product` returns its parts; a part's ``role`` says which material
it takes (the scene's material, an accent, the label texture, a screen). The 3D engine exports
the same parts to GLB.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from podium.providers.local.scene.mesh import (
    MeshPart,
    extrude,
    grid,
    lathe,
    quad,
    rounded_rect,
    sweep_tube,
)

LABEL_ARC = 1.9  # radians of a round product's circumference the label covers, centred front


@dataclass(frozen=True)
class ProductSpec:
    """A kind of product: its default size and its builder.

    Attributes:
        kind: the product's name (``bottle``, ``can`` ...).
        size: default (width, height, depth) in metres.
        material: the material it gets when the prompt names none.
        words: words in a subject that mean this product.
    """

    kind: str
    size: tuple[float, float, float]
    material: str
    words: tuple[str, ...]


Builder = Callable[[float, float, float], list[MeshPart]]


def _bottle(w: float, h: float, d: float) -> list[MeshPart]:
    r = w / 2
    body_top = h * 0.62
    neck = r * 0.36
    prof = [
        (0.0, 0.0),
        (r * 0.92, 0.0),
        (r, h * 0.02),
        (r, body_top),
        (r * 0.8, body_top + h * 0.08),
        (neck * 1.05, h * 0.8),
        (neck, h * 0.83),
        (neck, h * 0.84),
    ]
    cap = [(0.0, h * 0.83), (neck * 1.15, h * 0.83), (neck * 1.15, h * 0.83)]
    cap += [(neck * 1.15, h), (neck * 1.15, h), (0.0, h)]
    band = [(r * 1.004, h * 0.18), (r * 1.004, h * 0.52)]
    return [
        lathe("body", "body", prof),
        lathe("cap", "accent", cap, segments=48),
        lathe("label", "label", band, segments=48, arc=(-LABEL_ARC / 2, LABEL_ARC / 2)),
    ]


def _can(w: float, h: float, d: float) -> list[MeshPart]:
    r = w / 2
    prof = [
        (0.0, h * 0.012),
        (r * 0.78, h * 0.012),
        (r * 0.82, 0.0),
        (r * 0.92, 0.0),
        (r, h * 0.07),
        (r, h * 0.9),
        (r * 0.86, h * 0.985),
        (r * 0.86, h),
        (r * 0.86, h),
        (r * 0.8, h),
        (r * 0.8, h * 0.985),
        (r * 0.8, h * 0.985),
        (0.0, h * 0.985),
    ]
    band = [(r * 1.003, h * 0.09), (r * 1.003, h * 0.88)]
    return [
        lathe("body", "accent", prof),
        lathe("label", "label", band, segments=64, arc=(-np.pi * 0.75, np.pi * 0.75)),
    ]


def _jar(w: float, h: float, d: float) -> list[MeshPart]:
    r = w / 2
    body = [
        (0.0, 0.0),
        (r * 0.9, 0.0),
        (r, h * 0.06),
        (r, h * 0.68),
        (r * 0.9, h * 0.74),
        (r * 0.88, h * 0.74),
    ]
    lid_r = r * 0.96
    lid = [(lid_r * 0.9, h * 0.72), (lid_r, h * 0.73), (lid_r, h * 0.97), (lid_r * 0.96, h)]
    lid += [(0.0, h)]
    band = [(r * 1.004, h * 0.16), (r * 1.004, h * 0.58)]
    return [
        lathe("body", "body", body),
        lathe("lid", "accent", lid),
        lathe("label", "label", band, segments=48, arc=(-LABEL_ARC / 2, LABEL_ARC / 2)),
    ]


def _mug(w: float, h: float, d: float) -> list[MeshPart]:
    r = w / 2
    t = 0.005
    prof = [
        (0.0, 0.0),
        (r * 0.9, 0.0),
        (r, h * 0.05),
        (r, h),
        (r - t * 0.5, h + t * 0.3),
        (r - t, h),
        (r - t, t * 1.5),
        (0.0, t * 1.5),
    ]
    a = np.linspace(-np.pi / 2 + 0.25, np.pi / 2 - 0.25, 24)
    reach = h * 0.3
    path = np.stack(
        [
            r - 0.004 + reach * 0.9 * np.cos(a),
            h * 0.5 + reach * np.sin(a),
            np.zeros_like(a),
        ],
        axis=1,
    )
    band = [(r * 1.004, h * 0.25), (r * 1.004, h * 0.75)]
    return [
        lathe("body", "body", prof),
        sweep_tube("handle", "body", path, h * 0.055),
        lathe("label", "label", band, segments=48, arc=(-1.2, 1.2)),
    ]


def _compact(w: float, h: float, d: float) -> list[MeshPart]:
    r = w / 2
    base = [(0.0, 0.0), (r * 0.95, 0.0), (r, h * 0.1), (r, h * 0.45), (r, h * 0.45), (0, h * 0.45)]
    lid = [(0.0, h * 0.47), (r, h * 0.47), (r, h * 0.47), (r, h * 0.85), (r * 0.94, h)]
    lid += [(r * 0.5, h), (0.0, h)]
    seam = [(r * 1.002, h * 0.445), (r * 1.002, h * 0.475)]
    emblem = [(r * 0.45, h * 1.001), (0.0, h * 1.001)]
    return [
        lathe("base", "body", base),
        lathe("lid", "body", lid),
        lathe("seam", "accent", seam),
        lathe("emblem", "label", emblem, segments=48),
    ]


def _tube(w: float, h: float, d: float) -> list[MeshPart]:
    """A squeeze tube standing on its cap: round at the cap, crimped flat at the top."""
    r = w / 2
    cap_h = h * 0.14
    cap = lathe(
        "cap",
        "accent",
        [(0.0, 0.0), (r * 0.62, 0.0), (r * 0.62, 0.0), (r * 0.62, cap_h), (r * 0.3, cap_h)],
        segments=40,
    )
    rows, cols = 28, 48
    v = np.linspace(0.0, 1.0, rows + 1)
    a = np.linspace(-np.pi, np.pi, cols + 1)
    # the section widens and flattens from a circle (bottom) to a crimped seam (top)
    half_w = r * (0.66 + 0.6 * v**0.8)
    half_d = r * np.maximum(0.02, (1.0 - v**1.4)) * (0.66 + 0.34 * np.sin(np.pi * v * 0.6))
    half_d[0] = r * 0.66
    y = cap_h + (h - cap_h) * v
    aa, vv = np.meshgrid(a, np.arange(rows + 1), indexing="ij")
    x = half_w[vv] * np.sin(aa)
    z = half_d[vv] * np.cos(aa)
    verts = np.stack([x, y[vv], z], axis=-1)
    dv = np.gradient(verts, axis=1)
    da = np.gradient(verts, axis=0)
    norms = np.cross(da, dv)
    uvs = np.stack([(aa + np.pi) / (2 * np.pi), vv / rows], axis=-1)
    body = grid("body", "body", verts, norms, uvs)
    # the label is a patch of the body's own surface, lifted along its normals
    cols_in = np.abs(a) <= 1.0
    rows_in = (v >= 0.2) & (v <= 0.62)
    patch = verts[cols_in][:, rows_in]
    pn = norms[cols_in][:, rows_in]
    pn = pn / np.maximum(np.linalg.norm(pn, axis=-1, keepdims=True), 1e-12)
    pu, pv = np.meshgrid(
        np.linspace(0, 1, patch.shape[0]), np.linspace(0, 1, patch.shape[1]), indexing="ij"
    )
    front = grid("label", "label", patch + pn * 0.0006, pn, np.stack([pu, pv], axis=-1))
    return [cap, body, front]


def _box(w: float, h: float, d: float) -> list[MeshPart]:
    parts = extrude("body", "body", rounded_rect(w, d, min(w, d) * 0.03, 3), 0.0, h)
    parts.append(
        quad("label", "label", (0.0, h * 0.5, d / 2 + 0.0008), (w * 0.42, 0, 0), (0, h * 0.42, 0))
    )
    return parts


def _perfume(w: float, h: float, d: float) -> list[MeshPart]:
    body_h = h * 0.68
    parts = extrude("body", "body", rounded_rect(w, d, min(w, d) * 0.22, 6), 0.0, body_h)
    neck = lathe("neck", "accent", [(w * 0.1, body_h), (w * 0.1, body_h + h * 0.06)], segments=32)
    cap = extrude(
        "cap", "accent", rounded_rect(w * 0.42, w * 0.42, w * 0.04, 4), body_h + h * 0.06, h
    )
    label = quad(
        "label",
        "label",
        (0.0, body_h * 0.45, d / 2 + 0.0008),
        (w * 0.3, 0, 0),
        (0, body_h * 0.16, 0),
    )
    return [*parts, neck, *cap, label]


def _phone(w: float, h: float, d: float) -> list[MeshPart]:
    """A phone standing upright, screen to the front (+z)."""
    outline = rounded_rect(w, h, w * 0.14, 8)
    rot = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # (x, y, z) -> (x, z, -y)
    slab = extrude("body", "body", outline, -d / 2, d / 2)
    body = [p.transformed(rot, (0.0, h / 2, 0.0)) for p in slab]
    screen = quad(
        "screen", "screen", (0.0, h / 2, d / 2 + 0.0005), (w * 0.45, 0, 0), (0, h * 0.46, 0)
    )
    lens = lathe(
        "camera",
        "accent",
        [(0.0, 0.0), (w * 0.1, 0.0), (w * 0.1, 0.0), (w * 0.1, 0.002), (0.0, 0.002)],
        segments=24,
    ).transformed(np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]), (w * 0.2, h * 0.86, -d / 2))
    return [*body, screen, lens]


def _dropper(w: float, h: float, d: float) -> list[MeshPart]:
    r = w / 2
    body = [
        (0.0, 0.0),
        (r * 0.95, 0.0),
        (r, h * 0.03),
        (r, h * 0.5),
        (r * 0.55, h * 0.6),
        (r * 0.4, h * 0.62),
    ]
    collar = [(0.0, h * 0.6), (r * 0.48, h * 0.6), (r * 0.48, h * 0.6), (r * 0.48, h * 0.7)]
    collar += [(r * 0.48, h * 0.7), (r * 0.3, h * 0.7)]
    a = np.linspace(0.0, np.pi / 2, 10)
    bulb = [(r * 0.3, h * 0.7), (r * 0.36, h * 0.73), (r * 0.36, h * 0.9)]
    bulb += [(r * 0.36 * np.cos(t) + 1e-4, h * 0.9 + r * 0.36 * np.sin(t)) for t in a]
    band = [(r * 1.004, h * 0.1), (r * 1.004, h * 0.42)]
    return [
        lathe("body", "body", body),
        lathe("collar", "accent", collar, segments=40),
        lathe("bulb", "accent", [(0.0, h * 0.7), *bulb], segments=40),
        lathe("label", "label", band, segments=48, arc=(-LABEL_ARC / 2, LABEL_ARC / 2)),
    ]


SPECS: dict[str, ProductSpec] = {
    s.kind: s
    for s in (
        ProductSpec("bottle", (0.07, 0.24, 0.07), "glass", ("bottle", "wine", "water", "beer")),
        ProductSpec("can", (0.066, 0.122, 0.066), "brushed-metal", ("can", "soda", "drink")),
        ProductSpec("box", (0.1, 0.14, 0.05), "paper", ("box", "package", "carton", "tea")),
        ProductSpec("jar", (0.1, 0.068, 0.1), "glass", ("jar", "cream", "honey", "balm")),
        ProductSpec("tube", (0.05, 0.17, 0.05), "gloss-plastic", ("tube", "toothpaste", "lotion")),
        ProductSpec("phone", (0.075, 0.155, 0.008), "gloss-plastic", ("phone", "smartphone")),
        ProductSpec("mug", (0.082, 0.1, 0.082), "ceramic", ("mug", "cup", "coffee")),
        ProductSpec("compact", (0.08, 0.022, 0.08), "brushed-metal", ("compact", "powder")),
        ProductSpec("perfume", (0.07, 0.12, 0.035), "glass", ("perfume", "fragrance", "cologne")),
        ProductSpec("dropper", (0.04, 0.12, 0.04), "glass", ("dropper", "serum", "oil")),
    )
}

BUILDERS: dict[str, Builder] = {
    "bottle": _bottle,
    "can": _can,
    "box": _box,
    "jar": _jar,
    "tube": _tube,
    "phone": _phone,
    "mug": _mug,
    "compact": _compact,
    "perfume": _perfume,
    "dropper": _dropper,
}

KINDS: tuple[str, ...] = tuple(SPECS)


def build_product(kind: str, size: tuple[float, float, float] | None = None) -> list[MeshPart]:
    """The parts of one product.

    Args:
        kind: one of :data:`KINDS`.
        size: (width, height, depth) in metres; the kind's default when ``None``.

    Raises:
        KeyError: the kind is unknown.
    """
    spec = SPECS[kind]
    w, h, d = size or spec.size
    return BUILDERS[kind](w, h, d)


def bounds(parts: list[MeshPart]) -> tuple[np.ndarray, np.ndarray]:
    """The (min, max) corners of the parts' bounding box."""
    allv = np.concatenate([p.vertices for p in parts])
    return allv.min(axis=0), allv.max(axis=0)
