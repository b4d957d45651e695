"""From a structured prompt to a :class:`Scene`: the prompt is a specification.

Every visual prompt field steers the scene: ``subject`` picks the product (and its colour and
brand), ``material``, ``lighting``, ``background``, ``composition``, ``perspective``, ``style`` and
``mood`` pick from the studio's vocabulary (:mod:`.looks`), ``text`` is the label's brand text and
``negative`` turns shadows, reflections or the label off. The seed varies what the prompt leaves
open — the colourway, the rig's turn, the product's yaw — and nothing else.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Mapping
from typing import Any

from podium.providers.local.scene import looks
from podium.providers.local.scene.camera import PERSPECTIVES, frame, radius
from podium.providers.local.scene.model import (
    RGB,
    Background,
    Label,
    Mood,
    Product,
    Scene,
)
from podium.providers.local.scene.products import SPECS

ROUND = ("bottle", "can", "jar", "tube", "mug", "dropper")
BRAND_COLOURS: tuple[RGB, ...] = (
    (0.78, 0.12, 0.1),
    (0.05, 0.42, 0.45),
    (0.92, 0.55, 0.1),
    (0.1, 0.16, 0.42),
    (0.16, 0.45, 0.22),
    (0.85, 0.42, 0.55),
    (0.45, 0.2, 0.55),
)
BRANDS = ("AURA", "NOVA", "LUMEN", "ORBIT", "SOLA", "KITE", "VELA", "MOSS")


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value).lower()
    return str(value).lower()


def _pick(text: str, words: Mapping[str, str], default: str) -> str:
    """The value of the word of ``words`` that comes first in ``text`` (longest on a tie)."""
    best: tuple[int, int, str] | None = None
    for word, value in words.items():
        m = re.search(r"(?<![a-z])" + re.escape(word) + r"(?![a-z])", text)
        if m and (best is None or (m.start(), -len(word)) < (best[0], best[1])):
            best = (m.start(), -len(word), value)
    return best[2] if best else default


def _colour(text: str) -> RGB | None:
    for word in sorted(looks.COLORS, key=len, reverse=True):
        if re.search(r"\b" + word + r"\b", text):
            return looks.COLORS[word]
    return None


def aspect_of(params: Mapping[str, Any]) -> float:
    """Width / height from ``width``/``height`` or ``aspect_ratio`` params (16:9 default)."""
    w, h = params.get("width"), params.get("height")
    if w and h:
        return float(w) / float(h)
    ratio = str(params.get("aspect_ratio") or "16:9")
    a, _, b = ratio.partition(":")
    try:
        return float(a) / float(b or 1)
    except (ValueError, ZeroDivisionError):
        return 16 / 9


# words after which a subject stops naming its container: "a bottle of soda", "a jar with honey"
_HEAD_END = re.compile(r"[,;(]|\b(?:of|with|for|containing|filled|full|in|inside|from|and)\b")


def _matches(text: str, words: Mapping[str, str]) -> list[tuple[int, str]]:
    """(position, kind) of every word of ``words`` (or its plural) in ``text``."""
    found = []
    for word, kind in words.items():
        for m in re.finditer(r"\b" + re.escape(word) + r"s?\b", text):
            found.append((m.start(), kind))
    return sorted(found)


def product_kind(subject: str, rng: random.Random) -> str:
    """The library product a subject names (a seeded pick when it names none).

    A product's own name beats a word that merely suggests it ("a glass bottle of lemon soda"
    is a bottle, though soda comes in cans); among names, the head noun of the phrase before
    "of"/"with"/"in" wins ("a soda can", "a mug of tea"), except that a generic bottle yields
    to a more specific kind named anywhere ("a perfume bottle", "a bottle of perfume").
    """
    head = _HEAD_END.split(subject, maxsplit=1)[0]
    names = {kind: kind for kind in SPECS}
    found = _matches(head, names) or _matches(subject, names)
    if found:
        kind = found[-1][1]  # English compounds end on their head noun
        if kind == "bottle":
            specific = [k for _, k in _matches(subject, names) if k != "bottle"]
            kind = specific[0] if specific else kind
        return kind
    hints = {word: kind for kind, spec in SPECS.items() for word in spec.words if word != kind}
    found = _matches(head, hints) or _matches(subject, hints)
    if found:
        return found[0][1]
    return rng.choice(list(SPECS))


def material_name(material_text: str, subject: str, default: str) -> str:
    """The studio material a prompt's ``material`` field (else its subject) asks for.

    The most specific phrase wins, not the first or longest word: "matte plastic" and
    "plastic, matte finish" are matte plastic, "glossy ceramic" is ceramic, "shiny metal" is
    metal. A bare "plastic" in the material field takes its finish from the subject ("a matte
    black phone").
    """
    own = _material_in(material_text)
    subj = _material_in(subject)
    if own is None:
        return subj[0] if subj else default
    if own[1] == 0 and subj and subj[1] > 0 and subj[0] in looks.MATERIAL_FAMILY[own[0]]:
        return subj[0]
    return own[0]


def _material_in(text: str) -> tuple[str, int] | None:
    """(material, specificity) of the most specific material phrase in ``text``, earliest on a
    tie: a finish with its substance (2), a substance or finish alone (1), bare plastic (0)."""
    best: tuple[int, int, str] | None = None
    for phrase, (name, specificity) in looks.MATERIAL_PHRASES.items():
        pattern = r"(?<![a-z])" + r"[\s-]+".join(map(re.escape, phrase.split())) + r"(?![a-z])"
        m = re.search(pattern, text)
        if m and (best is None or (-specificity, m.start()) < (-best[0], best[1])):
            best = (specificity, m.start(), name)
    return (best[2], best[0]) if best else None


def scene_from_prompt(
    prompt_fields: Mapping[str, Any], params: Mapping[str, Any], seed: int | None
) -> Scene:
    """The scene a structured prompt describes.

    Args:
        prompt_fields: visual prompt fields (``subject``, ``style``, ``lighting`` ...); a plain
            string counts as the subject.
        params: common params (``aspect_ratio``, ``width``, ``height``) and ``label_image``
            (a path to the label or logo image).
        seed: the seed; the same prompt and seed give the same scene.
    """
    rng = random.Random(seed or 0)
    subject = _text(prompt_fields, "subject")
    raw_subject = str(prompt_fields.get("subject") or "")
    negative = _text(prompt_fields, "negative")
    kind = product_kind(subject, rng)
    spec = SPECS[kind]
    yaw = rng.uniform(-8.0, 8.0)

    mood_name = _pick(_text(prompt_fields, "mood"), looks.MOOD_WORDS, "neutral")
    mood = looks.MOODS[mood_name]
    style_name = _pick(_text(prompt_fields, "style"), looks.STYLE_WORDS, "realistic")
    style = looks.STYLES[style_name]
    if style_name == "minimal":
        mood = dataclasses.replace(mood, saturation=mood.saturation * 0.85, vignette=0.0)

    mat_text = _text(prompt_fields, "material") + " " + subject
    mat_name = material_name(_text(prompt_fields, "material"), subject, spec.material)
    colour = _colour(_text(prompt_fields, "material")) or _colour(subject)
    brand = rng.choice(mood.palette if mood.name != "neutral" else BRAND_COLOURS)
    if colour is None and mat_name not in ("glass", "brushed-metal"):
        colour = brand  # a seeded colourway for what the prompt leaves open
    accent = looks.COLORS["gold"] if mood.name == "luxurious" else looks.COLORS["silver"]
    if kind == "can":  # a can's body is its accent part: the metal under the print
        accent = colour or accent
    material = looks.material(mat_name, colour, accent, 1.0 if kind != "tube" else 0.0)
    if mat_name == "brushed-metal" and re.search(r"chrome|polished|shiny", mat_text):
        material = dataclasses.replace(material, roughness=0.06, anisotropy=0.0)
    if re.search(r"frosted|matte?[\s-]+glass", mat_text):
        material = dataclasses.replace(material, roughness=0.35, opacity=0.55)

    lighting_name = _pick(_text(prompt_fields, "lighting"), looks.LIGHTING_WORDS, "three-point")
    lighting = looks.lighting(
        lighting_name, radius(Product(kind, spec.size)), rng.uniform(-10.0, 10.0)
    )
    background = _background(prompt_fields, lighting_name, mood, style_name)

    label = _label(prompt_fields, params, raw_subject, mood, rng, brand)
    aspect = aspect_of(params)
    composition = _pick(_text(prompt_fields, "composition"), looks.COMPOSITION_WORDS, "medium")
    perspective = _pick(
        _text(prompt_fields, "perspective"), looks.PERSPECTIVE_WORDS, "three-quarter"
    )
    if kind in ROUND:  # a round product turns its label towards the camera
        yaw += PERSPECTIVES.get(perspective, PERSPECTIVES["three-quarter"])[0] * 0.85
    product = Product(kind, spec.size, yaw_deg=yaw)
    camera = frame(
        product,
        composition=composition,
        perspective=perspective,
        aspect=aspect,
        fov_scale=0.8 if style_name == "cinematic" else 1.0,
    )
    return Scene(
        product=product,
        material=material,
        label=label if "label" not in negative and "text" not in negative else Label(text=""),
        background=background,
        lighting=lighting,
        camera=camera,
        style=style,
        mood=mood,
        seed=int(seed or 0),
        shadows="shadow" not in negative,
        reflections="reflection" not in negative and style_name != "toon",
        subject=raw_subject,
    )


def _background(
    fields: Mapping[str, Any], lighting_name: str, mood: Mood, style_name: str
) -> Background:
    text = _text(fields, "background")
    kind = _pick(text, looks.BACKGROUND_WORDS, "solid" if style_name == "minimal" else "sweep")
    colour = _colour(text)
    dark = lighting_name in ("neon-rim", "low-key") or mood.name in ("mysterious", "luxurious")
    if colour is None:
        colour = mood.palette[0]
        if dark:  # a dark set: the lamps must not light the sweep up to grey
            scale = 0.04 if lighting_name == "low-key" else 0.12
            colour = tuple(c * scale for c in mood.palette[0])  # type: ignore[assignment]
        elif lighting_name == "golden-hour":
            colour = (0.85, 0.62, 0.45)
    top = tuple(min(1.0, c * 1.08 + 0.03) for c in colour)
    bottom = tuple(c * 0.62 for c in colour)
    if kind == "gradient":
        second = mood.palette[1] if len(mood.palette) > 1 else colour
        top = tuple(c * (0.3 if dark else 1.0) for c in second)
        bottom = tuple(c * 0.7 for c in colour)
    floor = tuple(c * 0.9 for c in colour)
    if kind == "environment":
        floor = (0.42, 0.3, 0.2) if not dark else (0.08, 0.06, 0.05)
    reflectivity = 0.45 if dark else 0.22
    if style_name == "minimal":
        reflectivity = 0.12
    return Background(kind, top, bottom, floor, reflectivity)  # type: ignore[arg-type]


def _label(
    fields: Mapping[str, Any],
    params: Mapping[str, Any],
    raw_subject: str,
    mood: Mood,
    rng: random.Random,
    brand: RGB,
) -> Label:
    image = params.get("label_image")
    text = str(fields.get("text") or "")
    if not text:
        quoted = re.findall(r"[\"“'‘]([^\"”'’]{2,24})[\"”'’]", raw_subject)
        text = quoted[0] if quoted else rng.choice(BRANDS)
    paper = mood.palette[1] if len(mood.palette) > 1 else (0.95, 0.93, 0.88)
    ink = mood.palette[0] if mood.name != "neutral" else brand
    if sum(paper) < 1.2:
        paper, ink = (0.95, 0.93, 0.88), paper
    if abs(sum(paper) - sum(ink)) < 0.9:
        ink = (0.08, 0.08, 0.1) if sum(paper) > 1.5 else (0.96, 0.95, 0.92)
    return Label(str(image) if image else None, text.strip()[:24], paper, ink)


def frame_size(params: Mapping[str, Any], long_side: int = 1024) -> tuple[int, int]:
    """(width, height) from ``width``/``height``/``aspect_ratio``, even numbers (H.264 needs them).

    One of width/height with an aspect ratio gives the other; neither gives ``long_side`` on
    the longer side.
    """
    w, h = params.get("width"), params.get("height")
    aspect = aspect_of({"aspect_ratio": params.get("aspect_ratio")})
    if w and h:
        width, height = int(w), int(h)
    elif w:
        width, height = int(w), round(int(w) / aspect)
    elif h:
        width, height = round(int(h) * aspect), int(h)
    elif aspect >= 1:
        width, height = long_side, round(long_side / aspect)
    else:
        width, height = round(long_side * aspect), long_side
    return max(2, width // 2 * 2), max(2, height // 2 * 2)
