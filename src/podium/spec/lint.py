"""The prompt linter: advice a good art director would give, as warnings.

An image prompt should say how the shot is composed, lit, seen and styled; a video prompt what
moves, what the camera does and how long it lasts; a video shot over 10 s is better stitched from
shorter shots; a hero image deserves several variants to choose from. Plain-string prompts are
checked by keywords. ``--strict`` turns these warnings into errors.
"""

from __future__ import annotations

import re
from typing import Any

from podium.errors import Problem
from podium.spec.fanout import variant_total
from podium.spec.loader import LoadedSpec
from podium.spec.models import Step
from podium.spec.source import FieldPath
from podium.spec.vocabulary import Task

MAX_SHOT_S = 10.0

# image-to-image prompts are edits: framing and light come from the input image
_IMAGE_TASKS = (Task.TEXT_TO_IMAGE,)
_VIDEO_TASKS = (Task.TEXT_TO_VIDEO, Task.IMAGE_TO_VIDEO)

# For plain-string prompts: words that show the aspect is covered (matched at word starts).
_IMAGE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "composition": (
        "composition",
        "centered",
        "centred",
        "rule of thirds",
        "close-up",
        "closeup",
        "close up",
        "wide shot",
        "medium shot",
        "framed",
        "framing",
        "symmetr",
        "flat lay",
        "negative space",
        "full body",
        "portrait shot",
        "in the foreground",
        "in the background",
    ),
    "lighting": (
        "light",
        "lit ",
        "backlit",
        "sunlit",
        "shadow",
        "golden hour",
        "softbox",
        "rim light",
        "neon",
        "glow",
        "sunset",
        "sunrise",
        "dramatic light",
        "studio light",
        "daylight",
    ),
    "perspective": (
        "angle",
        "view",
        "perspective",
        "overhead",
        "top-down",
        "top down",
        "aerial",
        "eye level",
        "eye-level",
        "isometric",
        "from above",
        "from below",
        "macro",
        "lens",
        "bird's-eye",
        "worm's-eye",
        "fisheye",
        "telephoto",
        "wide-angle",
    ),
    "style": (
        "style",
        "photo",
        "photograph",
        "render",
        "illustration",
        "painting",
        "cinematic",
        "realistic",
        "watercolor",
        "watercolour",
        "3d",
        "minimalist",
        "anime",
        "vintage",
        "film",
        "editorial",
        "product shot",
        "sketch",
        "digital art",
        "oil",
    ),
}
_CAMERA_WORDS = (
    "camera",
    "pan",
    "tilt",
    "dolly",
    "zoom",
    "tracking",
    "track",
    "orbit",
    "crane",
    "handheld",
    "hand-held",
    "static shot",
    "locked-off",
    "push in",
    "push-in",
    "pull back",
    "pull-back",
    "drone",
    "fpv",
    "steadicam",
    "whip",
    "truck",
    "pedestal",
    "arc shot",
)
_MOTION_WORDS = (
    "run",
    "walk",
    "move",
    "moving",
    "spin",
    "rotat",
    "pour",
    "fly",
    "flies",
    "fall",
    "danc",
    "jump",
    "turn",
    "splash",
    "drift",
    "rise",
    "rising",
    "flow",
    "swim",
    "wave",
    "roll",
    "slide",
    "open",
    "bounce",
    "explod",
    "melt",
    "grow",
    "blow",
    "sway",
    "swirl",
    "chase",
    "slow motion",
    "timelapse",
    "time-lapse",
)
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s*(?:s|sec|secs|second|seconds)\b", re.IGNORECASE)


def lint(loaded: LoadedSpec) -> list[Problem]:
    """Prompt advice for every step, as warnings with code ``lint``.

    Args:
        loaded: the loaded spec.
    """
    out: list[Problem] = []
    for index, step in enumerate(loaded.pipeline.steps):
        if index in loaded.broken_steps:
            continue
        path: FieldPath = ("steps", index, "prompt")
        advice: list[tuple[str, str]] = []
        if step.task in _IMAGE_TASKS and step.prompt:
            advice += _image_advice(step.prompt)
        if step.task in _VIDEO_TASKS and step.prompt:
            advice += _video_advice(step)
        if step.task in _VIDEO_TASKS:
            duration = _duration(step)
            if duration is not None and duration > MAX_SHOT_S:
                advice.append(
                    (
                        f"a {duration:g} s video shot is long for one generation",
                        f"stitch shots of {MAX_SHOT_S:g} s or less with compose-video",
                    )
                )
        if step.task == Task.TEXT_TO_IMAGE and _is_hero(step) and variant_total(step) == 1:
            path = ("steps", index)
            advice.append(
                (
                    "a hero image with a single variant leaves nothing to choose from",
                    "add `variants: {count: 4}` and `select: {by: quality, keep: 1}`",
                )
            )
        for message, hint in advice:
            out.append(
                loaded.problem(
                    path, message, hint=hint, severity="warning", code="lint", value=True
                )
            )
    return out


def _image_advice(prompt: str | dict[str, Any]) -> list[tuple[str, str]]:
    missing = _missing(prompt, _IMAGE_KEYWORDS)
    if not missing:
        return []
    return [(f"image prompt says nothing about {_and(missing)}", _hint(prompt, missing))]


def _video_advice(step: Step) -> list[tuple[str, str]]:
    prompt = step.prompt
    assert prompt is not None
    missing: list[str] = []
    if isinstance(prompt, dict):
        if not prompt.get("action"):
            missing.append("action")
        if not prompt.get("camera"):
            missing.append("camera")
    else:
        text = f" {prompt.lower()}"
        if not _mentions(text, _MOTION_WORDS):
            missing.append("action")
        if not _mentions(text, _CAMERA_WORDS):
            missing.append("camera")
    if _duration(step) is None and not _refers(step, "duration_s"):
        missing.append("duration_s")
    if not missing:
        return []
    return [(f"video prompt says nothing about {_and(missing)}", _hint(prompt, missing))]


def _missing(prompt: str | dict[str, Any], keywords: dict[str, tuple[str, ...]]) -> list[str]:
    if isinstance(prompt, dict):
        return [aspect for aspect in keywords if not prompt.get(aspect)]
    text = f" {prompt.lower()} "
    return [aspect for aspect, words in keywords.items() if not _mentions(text, words)]


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    # match at the start of a word so "pan" does not fire inside "company"
    return any(re.search(r"(?<![a-z])" + re.escape(word), text) for word in words)


def _duration(step: Step) -> float | None:
    for source in (step.prompt if isinstance(step.prompt, dict) else {}, step.params):
        value = source.get("duration_s")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value.strip():
            return None if value.strip().startswith("${") else _as_float(value)
    if isinstance(step.prompt, str):
        match = _DURATION.search(step.prompt)
        if match:
            return float(re.sub(r"[^\d.]", "", match.group(0)))
    return None


def _refers(step: Step, name: str) -> bool:
    """Whether the prompt or params set ``name`` by a reference (known only at run time)."""
    for source in (step.prompt if isinstance(step.prompt, dict) else {}, step.params):
        value = source.get(name)
        if isinstance(value, str) and value.strip().startswith("${"):
            return True
    return False


def _as_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _is_hero(step: Step) -> bool:
    prompt = step.prompt
    text = prompt if isinstance(prompt, str) else " ".join(str(v) for v in (prompt or {}).values())
    return "hero" in step.id.lower() or re.search(r"\bhero\b", text.lower()) is not None


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _hint(prompt: str | dict[str, Any], missing: list[str]) -> str:
    fields = ", ".join(f"`{name}:`" for name in missing)
    if isinstance(prompt, dict):
        return f"add {fields} to the prompt"
    return f"say it in the prompt, or write it as fields and add {fields}"
