"""Camera paths through a studio scene: orbit, dolly in/out, crane up/down, pan, push-in.

A path is two :class:`~.camera.Orbit` keys — where the camera starts and where it ends — and an
easing between them. The start is the scene's camera (or the first framing); the end follows
from the move (or is the last framing). Interpolating azimuth, elevation, distance, target and
field of view, rather than positions, keeps the product framed all the way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from podium.providers.local.scene.camera import Orbit

MOVES = (
    "orbit",
    "orbit-left",
    "dolly-in",
    "dolly-out",
    "crane-up",
    "crane-down",
    "pan-left",
    "pan-right",
    "push-in",
    "static",
)
_WORDS = (
    (r"orbit.*left|left.*orbit|counter", "orbit-left"),
    (r"orbit|circle|around|turntable|360", "orbit"),
    (r"dolly.*out|pull.*(out|back)|zoom.*out|reveal", "dolly-out"),
    (r"dolly|zoom.*in|closer|approach", "dolly-in"),
    (r"crane.*down|descend|lower", "crane-down"),
    (r"crane|rise|rising|jib|up\b", "crane-up"),
    (r"pan.*left", "pan-left"),
    (r"pan|truck|slide", "pan-right"),
    (r"push", "push-in"),
    (r"static|still|locked|fixed", "static"),
)


def move_of(text: str | None) -> str:
    """The camera move a ``camera``/``action`` phrase names (an orbit when it names none)."""
    t = (text or "").lower()
    for pattern, move in _WORDS:
        if re.search(pattern, t):
            return move
    return "orbit"


def ease(t: float, kind: str = "in-out") -> float:
    """Easing of ``t`` in 0..1: ``in-out`` (smootherstep), ``in``, ``out`` or ``linear``."""
    t = min(1.0, max(0.0, t))
    if kind == "linear":
        return t
    if kind == "in":
        return t * t * t
    if kind == "out":
        return 1 - (1 - t) ** 3
    return t * t * t * (t * (6 * t - 15) + 10)


def end_of(move: str, start: Orbit, radius: float, amount: float = 1.0) -> Orbit:
    """Where ``move`` takes a camera starting at ``start``, around a product of ``radius``."""
    a, e, d, tgt, fov = start.azimuth, start.elevation, start.distance, start.target, start.fov_deg
    tx, ty, tz = tgt
    if move == "orbit":
        return Orbit(a + 75 * amount, e, d, tgt, fov)
    if move == "orbit-left":
        return Orbit(a - 75 * amount, e, d, tgt, fov)
    if move == "dolly-in":
        return Orbit(a, e, d * (1 - 0.4 * amount), tgt, fov)
    if move == "dolly-out":
        return Orbit(a, e, d * (1 + 0.6 * amount), tgt, fov)
    if move == "crane-up":
        return Orbit(a, min(85.0, e + 30 * amount), d, (tx, ty + radius * 0.3 * amount, tz), fov)
    if move == "crane-down":
        return Orbit(a, max(-5.0, e - 25 * amount), d, (tx, ty - radius * 0.2 * amount, tz), fov)
    if move in ("pan-left", "pan-right"):
        # slide sideways along the camera's right vector, turning slightly to keep the product
        sign = -1.0 if move == "pan-left" else 1.0
        ra = math.radians(a)
        shift = radius * 0.9 * amount * sign
        new_t = (tx + shift * math.cos(ra) * 0.3, ty, tz - shift * math.sin(ra) * 0.3)
        return Orbit(a + 20 * amount * sign, e, d, new_t, fov)
    if move == "push-in":
        return Orbit(a, e, d * (1 - 0.2 * amount), tgt, fov * (1 - 0.3 * amount))
    return start


@dataclass(frozen=True)
class CameraPath:
    """A camera move from ``start`` to ``end`` with an easing.

    Attributes:
        move: the move's name (one of :data:`MOVES`).
        start: the first frame's camera.
        end: the last frame's camera.
        easing: ``in-out``, ``in``, ``out`` or ``linear``.
    """

    move: str
    start: Orbit
    end: Orbit
    easing: str = "in-out"

    def at(self, t: float) -> Orbit:
        """The camera at time ``t`` in 0..1 (eased)."""
        k = ease(t, self.easing)
        s, e = self.start, self.end

        def _mix(x: float, y: float) -> float:
            return x + (y - x) * k

        target = tuple(_mix(x, y) for x, y in zip(s.target, e.target, strict=True))
        return Orbit(
            _mix(s.azimuth, e.azimuth),
            _mix(s.elevation, e.elevation),
            math.exp(_mix(math.log(s.distance), math.log(e.distance))),  # even speed in and out
            (target[0], target[1], target[2]),
            _mix(s.fov_deg, e.fov_deg),
        )
