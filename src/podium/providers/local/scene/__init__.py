"""The studio scene: what the raster engine, the path tracer and the 3D exporter all draw.

``scene_from_prompt(prompt_fields, params, seed)`` builds a :class:`Scene` from a structured
prompt; ``Scene.to_dict()`` / ``Scene.from_dict()`` carry it in an image artifact's metadata
under ``"scene"``; :mod:`podium.providers.local.scene.products` builds the product meshes.
"""

from __future__ import annotations

from podium.providers.local.scene.camera import Orbit, frame, framing_camera, orbit_of
from podium.providers.local.scene.model import (
    Background,
    Camera,
    Label,
    Light,
    Lighting,
    Material,
    Mood,
    Product,
    Scene,
    Style,
)
from podium.providers.local.scene.prompt import aspect_of, frame_size, scene_from_prompt

__all__ = [
    "Background",
    "Camera",
    "Label",
    "Light",
    "Lighting",
    "Material",
    "Mood",
    "Orbit",
    "Product",
    "Scene",
    "Style",
    "aspect_of",
    "frame",
    "frame_size",
    "framing_camera",
    "orbit_of",
    "scene_from_prompt",
]
