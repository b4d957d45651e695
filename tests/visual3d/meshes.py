"""Test meshes: an intact two-part solid and a broken copy of it (holes, flipped faces)."""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh


def intact() -> Any:
    """A bottle-like solid (capsule, 7 cm across) beside a 4 cm cube: two closed components."""
    body = trimesh.creation.capsule(height=0.12, radius=0.035, count=(48, 24))
    cube = trimesh.creation.box(extents=(0.04, 0.04, 0.04))
    cube.apply_translation((0.12, 0.0, 0.0))
    return trimesh.util.concatenate([body, cube])


def broken(mesh: Any, *, holes: int = 25, flipped: int = 150, seed: int = 0) -> Any:
    """``mesh`` with ``holes`` faces removed and ``flipped`` faces turned inside out."""
    rng = np.random.default_rng(seed)
    faces = np.asarray(mesh.faces).copy()
    keep = np.ones(len(faces), dtype=bool)
    # holes only in the big component, spread out so each is its own loop
    keep[rng.choice(len(faces) - 12, holes, replace=False)] = False
    faces = faces[keep]
    turn = rng.choice(len(faces), flipped, replace=False)
    faces[turn] = faces[turn][:, ::-1]
    return trimesh.Trimesh(np.asarray(mesh.vertices), faces, process=False)
