"""The scene description: plain frozen data that says everything a renderer needs.

A :class:`Scene` rides in a studio image's metadata under ``"scene"`` (see
:meth:`Scene.to_dict`), so a later step can re-render the same product from another camera —
the raster engine, the path tracer and the 3D exporter all read this one description.
Lengths are metres, colours linear-ish RGB in 0..1, angles degrees.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

RGB = tuple[float, float, float]
Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Product:
    """What stands on the floor.

    Attributes:
        kind: a product of the library (``bottle``, ``can``, ``box`` ...).
        size: (width, height, depth) in metres.
        yaw_deg: turn about the vertical axis (0: label faces the +z camera).
    """

    kind: str
    size: Vec3
    yaw_deg: float = 0.0


@dataclass(frozen=True)
class Material:
    """How the product's body looks; ``accent`` is for caps, lids and trims.

    Attributes:
        name: ``glass``, ``brushed-metal``, ``matte-plastic``, ``gloss-plastic``, ``ceramic``,
            ``paper``.
        color: base colour.
        roughness: 0 mirror .. 1 chalk.
        metallic: 0 dielectric .. 1 metal.
        opacity: below 1 for glass.
        accent_color: colour of caps and lids.
        accent_metallic: whether the accent is metal (1) or plastic (0).
        anisotropy: brushed streaks along the product's height (0..1).
    """

    name: str
    color: RGB
    roughness: float
    metallic: float = 0.0
    opacity: float = 1.0
    accent_color: RGB = (0.8, 0.8, 0.8)
    accent_metallic: float = 1.0
    anisotropy: float = 0.0


@dataclass(frozen=True)
class Label:
    """The label or logo mapped onto the product's label area.

    Attributes:
        image: a PNG/JPEG path (a ``label`` input), or ``None`` to draw one from ``text``.
        text: the brand text drawn when there is no image.
        color: the label's paper colour.
        ink: the text colour.
    """

    image: str | None = None
    text: str = ""
    color: RGB = (0.95, 0.93, 0.88)
    ink: RGB = (0.1, 0.1, 0.12)


@dataclass(frozen=True)
class Background:
    """What is behind and under the product.

    Attributes:
        kind: ``solid``, ``gradient``, ``sweep`` (a curved studio cyclorama) or ``environment``
            (a room with a window).
        top: colour at the top of the frame / the wall.
        bottom: colour at the horizon / the floor.
        floor: the floor's colour.
        reflectivity: how much the floor mirrors the product (0..1).
    """

    kind: str
    top: RGB
    bottom: RGB
    floor: RGB
    reflectivity: float = 0.25


@dataclass(frozen=True)
class Light:
    """One light.

    Attributes:
        position: where it is (metres; it points at the product).
        color: its colour.
        intensity: a multiplier of ``color``.
        size: its apparent size, which softens its shadow and widens its highlight (0..1).
        shadow: whether it casts the shadow (one light does).
    """

    position: Vec3
    color: RGB
    intensity: float
    size: float = 0.3
    shadow: bool = False


@dataclass(frozen=True)
class Lighting:
    """A lighting preset with its lights.

    Attributes:
        preset: ``three-point``, ``softbox``, ``window``, ``golden-hour``, ``neon-rim``,
            ``low-key``.
        lights: the lights, the key (shadow caster) first.
        ambient: fill from everywhere.
    """

    preset: str
    lights: tuple[Light, ...]
    ambient: RGB


@dataclass(frozen=True)
class Camera:
    """Where the camera is and what it looks at.

    Attributes:
        position: eye position (metres).
        target: the point it looks at.
        fov_deg: vertical field of view.
        composition: ``close-up``, ``medium`` or ``wide`` (how it was framed).
        perspective: ``eye-level``, ``top-down``, ``isometric``, ``low-angle``,
            ``three-quarter``.
    """

    position: Vec3
    target: Vec3
    fov_deg: float
    composition: str = "medium"
    perspective: str = "three-quarter"


@dataclass(frozen=True)
class Style:
    """How the picture is finished.

    Attributes:
        name: ``realistic``, ``cinematic``, ``minimal`` or ``toon``.
        dof: depth-of-field blur strength (0 = all sharp).
        letterbox: the aspect ratio of black bars (0 = none; 2.39 for cinema).
        toon_steps: bands of cel shading (0 = smooth shading).
        outline: ink outline width in pixels at 512 px height (0 = none).
    """

    name: str = "realistic"
    dof: float = 0.0
    letterbox: float = 0.0
    toon_steps: int = 0
    outline: float = 0.0


@dataclass(frozen=True)
class Mood:
    """The mood's palette and colour grade.

    Attributes:
        name: the mood word (``calm``, ``energetic``, ``luxurious`` ...).
        palette: colours of the mood, the main one first.
        tint: a multiplier applied in the grade.
        saturation: 1 keeps colours, 0 is grey.
        contrast: 1 keeps contrast.
        vignette: darkening of the corners (0..1).
    """

    name: str
    palette: tuple[RGB, ...]
    tint: RGB = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    contrast: float = 1.0
    vignette: float = 0.2


@dataclass(frozen=True)
class Scene:
    """Everything a renderer needs to draw one product shot.

    Attributes:
        product: the product and its size.
        material: the product's material.
        label: the label or logo on it.
        background: backdrop and floor.
        lighting: the lights.
        camera: the camera.
        style: the finish.
        mood: palette and grade.
        seed: the seed it was made with.
        shadows: whether shadows are drawn (a ``negative`` may turn them off).
        reflections: whether the floor reflects.
        subject: the subject words it was made from.
    """

    product: Product
    material: Material
    label: Label
    background: Background
    lighting: Lighting
    camera: Camera
    style: Style = field(default_factory=Style)
    mood: Mood = field(default_factory=lambda: Mood("neutral", ((0.8, 0.8, 0.8),)))
    seed: int = 0
    shadows: bool = True
    reflections: bool = True
    subject: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The scene as JSON-ready data (lists for tuples)."""
        plain: dict[str, Any] = _plain(dataclasses.asdict(self))
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scene:
        """The scene :meth:`to_dict` made (unknown keys are ignored, missing ones default)."""
        return _build(cls, data)

    def with_camera(self, camera: Camera) -> Scene:
        """The same scene seen through ``camera``."""
        return dataclasses.replace(self, camera=camera)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


T = TypeVar("T")


def _build(cls: type[T], data: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _coerce(hints[f.name], data[f.name])
    return cls(**kwargs)


def _coerce(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _build(hint, value)  # type: ignore[arg-type]
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v) for v in value)
        return tuple(_coerce(a, v) for a, v in zip(args, value, strict=False))
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is not type(None):
                return _coerce(arg, value)
    if hint is float:
        return float(value)
    if hint is int:
        return int(value)
    return value
