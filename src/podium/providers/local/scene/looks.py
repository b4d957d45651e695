"""The studio's vocabulary: materials, colours, lighting presets, backgrounds, moods, styles.

Each table maps the words a prompt may use to frozen scene parts. Lights are placed relative
to the product's size ``r`` (its bounding radius), so presets light a lipstick and a kettle alike.
"""

from __future__ import annotations

import math

from podium.providers.local.scene.model import (
    RGB,
    Light,
    Lighting,
    Material,
    Mood,
    Style,
)

COLORS: dict[str, RGB] = {
    "red": (0.78, 0.08, 0.08),
    "crimson": (0.6, 0.03, 0.08),
    "orange": (0.95, 0.42, 0.08),
    "amber": (0.85, 0.5, 0.12),
    "yellow": (0.95, 0.8, 0.15),
    "gold": (0.9, 0.68, 0.3),
    "green": (0.12, 0.55, 0.22),
    "mint": (0.6, 0.9, 0.75),
    "teal": (0.05, 0.5, 0.5),
    "blue": (0.1, 0.3, 0.85),
    "navy": (0.05, 0.08, 0.3),
    "purple": (0.45, 0.15, 0.65),
    "violet": (0.55, 0.3, 0.85),
    "pink": (0.95, 0.5, 0.65),
    "rose": (0.9, 0.55, 0.6),
    "white": (0.92, 0.92, 0.9),
    "black": (0.04, 0.04, 0.045),
    "silver": (0.82, 0.83, 0.85),
    "grey": (0.5, 0.5, 0.52),
    "gray": (0.5, 0.5, 0.52),
    "brown": (0.4, 0.24, 0.12),
    "copper": (0.85, 0.48, 0.3),
    "cream": (0.95, 0.9, 0.78),
    "beige": (0.85, 0.78, 0.65),
    "clear": (0.9, 0.95, 0.95),
}

# name: (colour, roughness, metallic, opacity, anisotropy)
MATERIALS: dict[str, tuple[RGB, float, float, float, float]] = {
    "glass": ((0.82, 0.92, 0.9), 0.04, 0.0, 0.3, 0.0),
    "brushed-metal": ((0.8, 0.81, 0.83), 0.3, 1.0, 1.0, 0.8),
    "matte-plastic": ((0.6, 0.62, 0.65), 0.75, 0.0, 1.0, 0.0),
    "gloss-plastic": ((0.7, 0.1, 0.12), 0.12, 0.0, 1.0, 0.0),
    "ceramic": ((0.92, 0.9, 0.86), 0.22, 0.0, 1.0, 0.0),
    "paper": ((0.88, 0.84, 0.76), 0.9, 0.0, 1.0, 0.0),
}

MATERIAL_WORDS: dict[str, str] = {
    "glass": "glass",
    "frosted": "glass",
    "crystal": "glass",
    "metal": "brushed-metal",
    "aluminium": "brushed-metal",
    "aluminum": "brushed-metal",
    "steel": "brushed-metal",
    "brushed": "brushed-metal",
    "chrome": "brushed-metal",
    "matte": "matte-plastic",
    "matt": "matte-plastic",
    "gloss": "gloss-plastic",
    "glossy": "gloss-plastic",
    "plastic": "gloss-plastic",
    "shiny": "gloss-plastic",
    "ceramic": "ceramic",
    "porcelain": "ceramic",
    "stoneware": "ceramic",
    "paper": "paper",
    "cardboard": "paper",
    "kraft": "paper",
}


# finishes that say which plastic, and substances that a finish only qualifies
FINISHES = {"matte": "matte-plastic", "matt": "matte-plastic", "satin": "matte-plastic"} | {
    w: "gloss-plastic" for w in ("gloss", "glossy", "shiny", "polished", "lacquered")
}
GENERIC = ("plastic",)  # a substance whose finish is still open


def _phrases() -> dict[str, tuple[str, int]]:
    """Material phrases with their specificity: finish + substance 2, one word 1, plastic 0."""
    table = {w: (name, 0 if w in GENERIC else 1) for w, name in MATERIAL_WORDS.items()}
    table.update({w: (name, 1) for w, name in FINISHES.items() if w not in table})
    nouns = {w: n for w, n in MATERIAL_WORDS.items() if w not in FINISHES}
    for finish, plastic in {**FINISHES, "brushed": "", "frosted": ""}.items():
        for noun, name in nouns.items():
            if noun != finish:
                # "matte plastic" takes the finish; "glossy ceramic" stays ceramic
                table[f"{finish} {noun}"] = (plastic if noun in GENERIC and plastic else name, 2)
    return table


MATERIAL_PHRASES: dict[str, tuple[str, int]] = _phrases()
# what a generic word may be refined to by the subject's finish words
MATERIAL_FAMILY: dict[str, tuple[str, ...]] = {
    "gloss-plastic": ("gloss-plastic", "matte-plastic"),
}


def material(name: str, color: RGB | None, accent: RGB, accent_metallic: float) -> Material:
    """The material ``name`` in ``color`` (its own default colour when ``None``)."""
    base, rough, metal, opacity, aniso = MATERIALS[name]
    return Material(
        name=name,
        color=color or base,
        roughness=rough,
        metallic=metal,
        opacity=opacity,
        accent_color=accent,
        accent_metallic=accent_metallic,
        anisotropy=aniso,
    )


def _at(r: float, azimuth: float, elevation: float, distance: float) -> tuple[float, float, float]:
    """A point ``distance * r`` away from the product centre at these angles (degrees)."""
    a, e = math.radians(azimuth), math.radians(elevation)
    d = distance * r
    return (d * math.cos(e) * math.sin(a), r + d * math.sin(e), d * math.cos(e) * math.cos(a))


def lighting(preset: str, r: float, turn: float = 0.0) -> Lighting:
    """The lights of ``preset`` around a product of bounding radius ``r``.

    Args:
        preset: a key of :data:`LIGHTING_WORDS` values.
        r: the product's bounding radius in metres.
        turn: degrees the whole rig turns about the product (a seeded variation).
    """
    t = turn
    lights: tuple[Light, ...]
    if preset == "softbox":
        lights = (
            Light(_at(r, -25 + t, 55, 9), (1.0, 0.98, 0.95), 2.6, 0.85, True),
            Light(_at(r, 70 + t, 15, 9), (0.95, 0.97, 1.0), 0.9, 0.8),
            Light(_at(r, 180 + t, 40, 9), (1.0, 1.0, 1.0), 1.2, 0.6),
        )
        return Lighting(preset, lights, (0.3, 0.3, 0.31))
    if preset == "window":
        lights = (
            Light(_at(r, -75 + t, 25, 12), (0.92, 0.96, 1.0), 3.2, 0.55, True),
            Light(_at(r, 100 + t, 5, 9), (1.0, 0.95, 0.88), 0.5, 0.9),
        )
        return Lighting(preset, lights, (0.16, 0.18, 0.22))
    if preset == "golden-hour":
        lights = (
            Light(_at(r, -125 + t, 12, 14), (1.0, 0.62, 0.3), 4.2, 0.25, True),
            Light(_at(r, 40 + t, 30, 9), (0.45, 0.55, 0.8), 0.7, 0.9),
        )
        return Lighting(preset, lights, (0.2, 0.14, 0.1))
    if preset == "neon-rim":
        lights = (
            Light(_at(r, -140 + t, 25, 8), (1.0, 0.1, 0.75), 4.5, 0.3, True),
            Light(_at(r, 140 + t, 25, 8), (0.05, 0.8, 1.0), 4.5, 0.3),
            Light(_at(r, 10 + t, 20, 9), (0.45, 0.3, 0.9), 0.7, 0.6),
        )
        return Lighting(preset, lights, (0.05, 0.03, 0.1))
    if preset == "low-key":
        lights = (
            Light(_at(r, -70 + t, 45, 10), (1.0, 0.96, 0.9), 3.6, 0.15, True),
            Light(_at(r, 160 + t, 20, 9), (0.8, 0.85, 1.0), 0.9, 0.2),
        )
        return Lighting(preset, lights, (0.015, 0.015, 0.02))
    lights = (  # three-point
        Light(_at(r, -40 + t, 38, 10), (1.0, 0.96, 0.9), 3.0, 0.35, True),
        Light(_at(r, 55 + t, 15, 10), (0.9, 0.95, 1.0), 1.0, 0.6),
        Light(_at(r, 170 + t, 50, 10), (1.0, 1.0, 1.0), 2.2, 0.3),
    )
    return Lighting("three-point", lights, (0.14, 0.14, 0.15))


LIGHTING_WORDS: dict[str, str] = {
    "three-point": "three-point",
    "three point": "three-point",
    "studio": "three-point",
    "softbox": "softbox",
    "soft": "softbox",
    "diffuse": "softbox",
    "window": "window",
    "natural": "window",
    "daylight": "window",
    "golden": "golden-hour",
    "sunset": "golden-hour",
    "sunrise": "golden-hour",
    "neon": "neon-rim",
    "rim": "neon-rim",
    "cyberpunk": "neon-rim",
    "low key": "low-key",
    "low-key": "low-key",
    "dramatic": "low-key",
    "chiaroscuro": "low-key",
}

MOODS: dict[str, Mood] = {
    "neutral": Mood(
        "neutral",
        ((0.86, 0.86, 0.87), (0.6, 0.62, 0.66)),
        saturation=1.12,
        contrast=1.08,
        vignette=0.15,
    ),
    "calm": Mood(
        "calm",
        ((0.72, 0.8, 0.86), (0.9, 0.93, 0.95), (0.45, 0.55, 0.65)),
        (0.97, 1.0, 1.04),
        0.85,
        0.93,
        0.12,
    ),
    "energetic": Mood(
        "energetic",
        ((0.98, 0.55, 0.12), (0.98, 0.85, 0.2), (0.9, 0.2, 0.3)),
        (1.04, 1.0, 0.94),
        1.3,
        1.12,
        0.1,
    ),
    "luxurious": Mood(
        "luxurious",
        ((0.12, 0.1, 0.09), (0.85, 0.66, 0.32), (0.3, 0.22, 0.15)),
        (1.05, 1.0, 0.9),
        0.9,
        1.15,
        0.35,
    ),
    "playful": Mood(
        "playful",
        ((0.98, 0.7, 0.8), (0.6, 0.85, 0.95), (0.98, 0.9, 0.5)),
        (1.02, 1.0, 1.0),
        1.2,
        1.0,
        0.05,
    ),
    "mysterious": Mood(
        "mysterious",
        ((0.06, 0.07, 0.14), (0.25, 0.2, 0.45), (0.1, 0.3, 0.4)),
        (0.92, 0.96, 1.1),
        0.8,
        1.2,
        0.45,
    ),
    "fresh": Mood(
        "fresh",
        ((0.75, 0.92, 0.82), (0.95, 0.98, 0.95), (0.35, 0.7, 0.45)),
        (0.98, 1.03, 0.99),
        1.05,
        1.0,
        0.08,
    ),
    "warm": Mood(
        "warm",
        ((0.92, 0.75, 0.55), (0.98, 0.9, 0.78), (0.7, 0.4, 0.2)),
        (1.08, 1.0, 0.88),
        1.05,
        1.02,
        0.2,
    ),
    "cool": Mood(
        "cool",
        ((0.55, 0.68, 0.85), (0.85, 0.9, 0.97), (0.15, 0.3, 0.55)),
        (0.92, 1.0, 1.1),
        0.95,
        1.05,
        0.18,
    ),
}

MOOD_WORDS: dict[str, str] = {
    "calm": "calm",
    "serene": "calm",
    "peaceful": "calm",
    "energetic": "energetic",
    "vibrant": "energetic",
    "bold": "energetic",
    "luxurious": "luxurious",
    "luxury": "luxurious",
    "premium": "luxurious",
    "elegant": "luxurious",
    "playful": "playful",
    "fun": "playful",
    "whimsical": "playful",
    "mysterious": "mysterious",
    "dark": "mysterious",
    "moody": "mysterious",
    "fresh": "fresh",
    "natural": "fresh",
    "clean": "fresh",
    "warm": "warm",
    "cozy": "warm",
    "cosy": "warm",
    "cool": "cool",
    "tech": "cool",
    "futuristic": "cool",
}

STYLES: dict[str, Style] = {
    "realistic": Style("realistic"),
    "cinematic": Style("cinematic", dof=1.0, letterbox=2.39),
    "minimal": Style("minimal"),
    "toon": Style("toon", toon_steps=3, outline=2.0),
}

STYLE_WORDS: dict[str, str] = {
    "realistic": "realistic",
    "photo": "realistic",
    "cinematic": "cinematic",
    "film": "cinematic",
    "movie": "cinematic",
    "minimal": "minimal",
    "minimalist": "minimal",
    "clean": "minimal",
    "toon": "toon",
    "cartoon": "toon",
    "cel": "toon",
    "comic": "toon",
    "illustration": "toon",
    "flat": "toon",
}

BACKGROUND_WORDS: dict[str, str] = {
    "solid": "solid",
    "plain": "solid",
    "seamless": "sweep",
    "gradient": "gradient",
    "sweep": "sweep",
    "studio": "sweep",
    "cyclorama": "sweep",
    "environment": "environment",
    "room": "environment",
    "interior": "environment",
    "kitchen": "environment",
    "table": "environment",
    "window": "environment",
    "outdoor": "environment",
}

PERSPECTIVE_WORDS: dict[str, str] = {
    "top-down": "top-down",
    "top down": "top-down",
    "overhead": "top-down",
    "flat lay": "top-down",
    "bird": "top-down",
    "isometric": "isometric",
    "low angle": "low-angle",
    "low-angle": "low-angle",
    "hero": "low-angle",
    "worm": "low-angle",
    "three-quarter": "three-quarter",
    "three quarter": "three-quarter",
    "3/4": "three-quarter",
    "eye level": "eye-level",
    "eye-level": "eye-level",
    "front": "eye-level",
    "straight": "eye-level",
}

COMPOSITION_WORDS: dict[str, str] = {
    "close-up": "close-up",
    "close up": "close-up",
    "closeup": "close-up",
    "macro": "close-up",
    "tight": "close-up",
    "detail": "close-up",
    "medium": "medium",
    "wide": "wide",
    "establishing": "wide",
    "full": "wide",
    "distant": "wide",
}
