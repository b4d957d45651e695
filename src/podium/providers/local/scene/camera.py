"""Framing the product: perspective and composition to a camera, and back to orbit angles.

A perspective is a direction (azimuth, elevation) around the product's centre; a composition
is how much of the frame the product fills. :func:`frame` turns both into a :class:`Camera`
whose distance makes the product's bounding sphere fill that fraction of the frame's shorter
side, so any size and aspect ratio frames alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podium.providers.local.scene.model import Camera, Product, Vec3

# perspective: (azimuth, elevation, field of view) in degrees
PERSPECTIVES: dict[str, tuple[float, float, float]] = {
    "eye-level": (0.0, 3.0, 28.0),
    "three-quarter": (35.0, 20.0, 28.0),
    "top-down": (0.0, 89.0, 30.0),
    "isometric": (45.0, 35.264, 12.0),
    "low-angle": (20.0, -8.0, 34.0),
}
FILL: dict[str, float] = {"close-up": 1.1, "medium": 0.74, "wide": 0.4}
SIDES: dict[str, float] = {
    "front": 0.0,
    "left": -45.0,
    "right": 45.0,
    "back": 180.0,
    "side": 90.0,
}


@dataclass(frozen=True)
class Orbit:
    """A camera as angles around a target: what camera paths interpolate.

    Attributes:
        azimuth: degrees, 0 = front (+z), positive towards +x.
        elevation: degrees above the target's horizon.
        distance: metres from the target.
        target: the point looked at.
        fov_deg: vertical field of view.
    """

    azimuth: float
    elevation: float
    distance: float
    target: Vec3
    fov_deg: float

    def camera(self, composition: str = "medium", perspective: str = "three-quarter") -> Camera:
        """The camera at these angles."""
        a, e = math.radians(self.azimuth), math.radians(self.elevation)
        tx, ty, tz = self.target
        pos = (
            tx + self.distance * math.cos(e) * math.sin(a),
            ty + self.distance * math.sin(e),
            tz + self.distance * math.cos(e) * math.cos(a),
        )
        return Camera(pos, self.target, self.fov_deg, composition, perspective)


def orbit_of(camera: Camera) -> Orbit:
    """The orbit angles of ``camera`` around its target."""
    dx, dy, dz = (p - t for p, t in zip(camera.position, camera.target, strict=True))
    dist = math.sqrt(dx * dx + dy * dy + dz * dz)
    elevation = math.degrees(math.asin(max(-1.0, min(1.0, dy / max(dist, 1e-9)))))
    azimuth = math.degrees(math.atan2(dx, dz))
    return Orbit(azimuth, elevation, dist, camera.target, camera.fov_deg)


def radius(product: Product) -> float:
    """The bounding-sphere radius of the product (metres)."""
    w, h, d = product.size
    return 0.5 * math.sqrt(w * w + h * h + d * d)


def centre(product: Product) -> Vec3:
    """The product's centre."""
    return (0.0, product.size[1] / 2, 0.0)


def distance_for(product: Product, fill: float, fov_deg: float, aspect: float) -> float:
    """How far the camera stands so the product fills ``fill`` of the frame's shorter side."""
    half = math.radians(fov_deg) / 2
    if aspect < 1.0:  # portrait: the width is the shorter side
        half = math.atan(math.tan(half) * aspect)
    return radius(product) / (fill * math.tan(half))


def frame(
    product: Product,
    *,
    composition: str = "medium",
    perspective: str = "three-quarter",
    side: float | str | None = None,
    aspect: float = 16 / 9,
    fov_scale: float = 1.0,
) -> Camera:
    """A camera framing ``product``.

    Args:
        product: the product.
        composition: ``close-up``, ``medium`` or ``wide``.
        perspective: a key of :data:`PERSPECTIVES`.
        side: ``front``/``left``/``right``/``back`` or degrees added to the azimuth.
        aspect: width / height of the frame.
        fov_scale: narrows (< 1) or widens the lens (a cinematic style uses a longer lens).
    """
    az, el, fov = PERSPECTIVES.get(perspective, PERSPECTIVES["three-quarter"])
    fov *= fov_scale
    if isinstance(side, str):
        az = SIDES.get(side, 0.0) + (0.0 if side in SIDES else az)
    elif side is not None:
        az += float(side)
    target = centre(product)
    if perspective == "low-angle":
        target = (0.0, product.size[1] * 0.6, 0.0)
    dist = distance_for(product, FILL.get(composition, FILL["medium"]), fov, aspect)
    cam = Orbit(az, el, dist, target, fov).camera(composition, perspective)
    if cam.position[1] < 0.01:  # never below the floor
        x, _, z = cam.position
        cam = Camera((x, 0.01, z), cam.target, fov, composition, perspective)
    return cam


def framing_camera(
    product: Product, framing: Mapping[str, Any], base: Camera, aspect: float
) -> Camera:
    """The camera of a ``{camera, composition, perspective}`` framing, defaults from ``base``.

    ``camera`` may be a side (``left``), degrees of azimuth, or a dict with ``azimuth``,
    ``elevation`` and ``distance`` overrides.
    """
    composition = str(framing.get("composition") or base.composition)
    perspective = str(framing.get("perspective") or base.perspective)
    side = framing.get("camera")
    if isinstance(side, Mapping):
        orbit = orbit_of(
            frame(
                product,
                composition=composition,
                perspective=perspective,
                aspect=aspect,
                fov_scale=base.fov_deg / _fov(base.perspective),
            )
        )
        orbit = Orbit(
            float(side.get("azimuth", orbit.azimuth)),
            float(side.get("elevation", orbit.elevation)),
            float(side.get("distance", orbit.distance)),
            orbit.target,
            orbit.fov_deg,
        )
        return orbit.camera(composition, perspective)
    if isinstance(side, str):
        side = _side_word(side)
    return frame(
        product,
        composition=composition,
        perspective=perspective,
        side=side,
        aspect=aspect,
        fov_scale=base.fov_deg / _fov(base.perspective),
    )


def _fov(perspective: str) -> float:
    return PERSPECTIVES.get(perspective, PERSPECTIVES["three-quarter"])[2]


def _side_word(text: str) -> str | float | None:
    t = text.lower()
    for word in SIDES:
        if word in t:
            return word
    try:
        return float(t.rstrip("°").replace("deg", ""))
    except ValueError:
        return None
