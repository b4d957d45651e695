"""What a step asks of a model, read from the spec before anything runs.

:class:`StepFacts` gathers, once per step, everything the filters and estimates need: the
requested duration, resolution, fps, aspect ratio and sample rate; the length of the text to
speak; how many calls fan-out makes; the capabilities the step needs; which steps or inputs its
images come from; and which output types later steps use. Values that refer to pipeline inputs
are resolved; values that refer to other steps' outputs are only *estimated* (used for cost
and latency, never to exclude a model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podium.spec.models import Pipeline, Step
from podium.spec.references import Ref, find_refs, refers, resolve, step_refs
from podium.spec.vocabulary import TASK_OUTPUTS, ArtifactType, Task

#: Speaking rate used to estimate a voice's length from its text (about 150 words a minute).
CHARS_PER_SECOND = 15.0
#: Length assumed for audio or video whose duration nothing states.
DEFAULT_DURATION_S = 5.0

_IMAGE_SLOTS = ("image", "first_frame", "last_frame")
_FRAME_FIELDS = ("first_frame", "last_frame")
_AUDIO_VIDEO = (Task.TEXT_TO_VIDEO, Task.IMAGE_TO_VIDEO, Task.TEXT_TO_MUSIC, Task.COMPOSE_VIDEO)


@dataclass(frozen=True, slots=True)
class StepFacts:
    """What one step asks of the model that runs it.

    Attributes:
        step: the step.
        calls: how many calls fan-out makes (variants × foreach items).
        outputs: how many artifacts the step hands on (``select.keep`` or ``calls``).
        duration_s: the requested output duration, when the spec states it.
        est_duration_s: the expected output duration (stated, or estimated), for prices.
        chars: characters of the text to speak or write (inputs resolved).
        width: requested width in pixels.
        height: requested height in pixels.
        fps: requested frame rate.
        aspect_ratio: requested aspect ratio (``16:9``).
        sample_rate: requested sample rate.
        items: how many items a ``score`` or ``compose-video`` step receives.
        needs: capabilities the model must declare (``seed``, ``reference_image`` ...).
        wants_scene: whether the step asks for a scene-aware (studio) model (``needs: scene``).
        framings: prompt fields holding a framing ``{camera, composition, perspective}``.
        frame_images: slots or fields binding an image as first or last frame.
        image_sources: ``(slot, kind, name)`` for each image input: ``kind`` is ``steps`` or
            ``inputs``.
        used_outputs: output types later steps take from this step, with the reference.
    """

    step: Step
    calls: int
    outputs: int
    duration_s: float | None
    est_duration_s: float
    chars: int
    width: int | None
    height: int | None
    fps: int | None
    aspect_ratio: str | None
    sample_rate: int | None
    items: int | None
    needs: frozenset[str]
    wants_scene: bool
    framings: tuple[str, ...]
    frame_images: tuple[str, ...]
    image_sources: tuple[tuple[str, str, str], ...]
    used_outputs: tuple[tuple[ArtifactType, str], ...]


class FactFinder:
    """Builds :class:`StepFacts` for the steps of one pipeline, memoising estimates.

    Args:
        pipeline: the pipeline.
        inputs: resolved pipeline input values.
    """

    def __init__(self, pipeline: Pipeline, inputs: Mapping[str, Any]) -> None:
        self.pipeline = pipeline
        self.inputs = dict(inputs)
        self._steps = {s.id: s for s in pipeline.steps}
        self._facts: dict[str, StepFacts] = {}
        self._text: dict[str, str] = {}
        self._used = _used_outputs(pipeline)

    def facts(self, step: Step) -> StepFacts:
        """The facts of ``step`` (computed once)."""
        known = self._facts.get(step.id)
        if known is not None and known.step is step:
            return known
        facts = self._build(step)
        self._facts[step.id] = facts
        return facts

    def _build(self, step: Step) -> StepFacts:
        params = {k: self._input_value(v) for k, v in step.params.items()}
        prompt = step.prompt if isinstance(step.prompt, dict) else {}
        calls = self._calls(step)
        duration = _number(self._input_value(prompt.get("duration_s", params.get("duration_s"))))
        needs = {n for n in step.route.needs if n != "scene"}
        frame_images, framings = _frames(step, prompt)
        if frame_images:
            needs.add("first_last_frame")
        if "reference" in step.inputs or params.get("references") or params.get("consistency"):
            needs.add("reference_image")
        return StepFacts(
            step=step,
            calls=calls,
            outputs=min(step.select.keep, calls) if step.select else calls,
            duration_s=duration,
            est_duration_s=self._est_duration(step, set()),
            chars=len(self.text(step)),
            width=_int(params.get("width")),
            height=_int(params.get("height")),
            fps=_int(params.get("fps")),
            aspect_ratio=str(params["aspect_ratio"]) if params.get("aspect_ratio") else None,
            sample_rate=_int(params.get("sample_rate")),
            items=self._items(step),
            needs=frozenset(needs),
            wants_scene="scene" in step.route.needs,
            framings=framings,
            frame_images=frame_images,
            image_sources=_image_sources(step, prompt),
            used_outputs=self._used.get(step.id, ()),
        )

    def text(self, step: Step) -> str:
        """The text a step speaks or writes, with inputs and upstream text steps resolved."""
        if step.id in self._text:
            return self._text[step.id]
        self._text[step.id] = ""  # a guard against cycles, which validation reports
        prompt = step.prompt
        if isinstance(prompt, dict):
            prompt = prompt.get("text") or prompt.get("template") or ""
        text = str(resolve(prompt or "", self._lookup_text)) if prompt else ""
        self._text[step.id] = text
        return text

    def _lookup_text(self, ref: Ref) -> Any:
        if ref.kind == "inputs":
            return self.inputs.get(ref.name, "")
        if ref.kind == "steps" and ref.name in self._steps and ref.meta is None:
            return self.text(self._steps[ref.name])
        return ""

    def _input_value(self, value: Any) -> Any:
        if refers(value):
            refs = find_refs(value)
            if refs and all(r.kind == "inputs" for r in refs):
                return resolve(value, lambda r: self.inputs.get(r.name))
            return None
        return value

    def _calls(self, step: Step) -> int:
        calls = 1
        if step.variants is not None:
            calls = step.variants.count * math.prod(len(v) for v in step.variants.vary.values())
        if step.foreach:
            calls *= self._list_length(step.foreach)
        return max(calls, 1)

    def _list_length(self, value: Any) -> int:
        refs = find_refs(value) if isinstance(value, str) else []
        if not refs:
            return len(value) if isinstance(value, list) else 1
        ref = refs[0]
        if ref.kind == "inputs":
            items = self.inputs.get(ref.name)
            return len(items) if isinstance(items, list | tuple) else 1
        if ref.kind == "steps" and ref.is_list and ref.name in self._steps:
            return self.facts(self._steps[ref.name]).outputs
        return 1

    def _items(self, step: Step) -> int | None:
        slot = {Task.SCORE: "items", Task.COMPOSE_VIDEO: "shots"}.get(step.task)
        if slot is None or slot not in step.inputs:
            return None
        value = step.inputs[slot]
        values = value if isinstance(value, list) else [value]
        return sum(self._list_length(v) for v in values)

    def _est_duration(self, step: Step, seen: set[str]) -> float:
        """Expected output length: stated, else derived from inputs and upstream steps."""
        seen = seen | {step.id}
        prompt = step.prompt if isinstance(step.prompt, dict) else {}
        raw = prompt.get("duration_s", step.params.get("duration_s"))
        stated = _number(self._input_value(raw))
        if stated is not None:
            return stated
        for ref in find_refs(raw):
            if ref.kind == "steps" and ref.name in self._steps and ref.name not in seen:
                return self._est_duration(self._steps[ref.name], seen)
        if step.task is Task.TEXT_TO_SPEECH:
            return max(len(self.text(step)) / CHARS_PER_SECOND, 1.0)
        for slot in ("audio", "voice", "shots"):
            for ref in find_refs(step.inputs.get(slot)):
                if ref.kind == "steps" and ref.name in self._steps and ref.name not in seen:
                    return self._est_duration(self._steps[ref.name], seen)
        return DEFAULT_DURATION_S if step.task in _AUDIO_VIDEO else 0.0


def _frames(step: Step, prompt: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Slots/fields binding images as first or last frame, and fields holding framings."""
    images: list[str] = [s for s in _FRAME_FIELDS if s in step.inputs]
    framings: list[str] = []
    for name in _FRAME_FIELDS:
        value = prompt.get(name)
        if isinstance(value, dict):
            framings.append(name)
        elif isinstance(value, str) and find_refs(value):
            images.append(name)
    return tuple(dict.fromkeys(images)), tuple(framings)


def _image_sources(step: Step, prompt: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
    out: list[tuple[str, str, str]] = []
    for slot in _IMAGE_SLOTS:
        value = step.inputs.get(slot, prompt.get(slot) if slot in _FRAME_FIELDS else None)
        for ref in find_refs(value):
            if ref.kind in ("steps", "inputs"):
                out.append((slot, ref.kind, ref.name))
    return tuple(out)


def _used_outputs(pipeline: Pipeline) -> dict[str, tuple[tuple[ArtifactType, str], ...]]:
    """For each step, the non-default output types later steps take from it by index."""
    by_id = {s.id: s for s in pipeline.steps}
    used: dict[str, dict[ArtifactType, str]] = {}
    for step in pipeline.steps:
        for ref in step_refs(step):
            source = by_id.get(ref.name) if ref.kind == "steps" else None
            if source is None or ref.index is None:
                continue
            types = TASK_OUTPUTS[source.task]
            if ref.index < len(types):
                used.setdefault(source.id, {}).setdefault(types[ref.index], ref.text)
    return {k: tuple(v.items()) for k, v in used.items()}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None
