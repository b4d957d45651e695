"""Turning a step into units of work: references resolved, variants and foreach items expanded.

A step's references are resolved against the run's inputs and the artifacts of finished steps
(``${steps.voice.output.duration_s}`` reads artifact metadata). A step with variants becomes
one unit per variant (``step[i]``), a ``foreach`` step one unit per item, anything else one
unit keyed by the step id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podium.errors import InvalidInput
from podium.execute.attempt import Unit
from podium.providers.base import InputArtifact, InputValue
from podium.spec.fanout import apply, expand, explicit_seed, fans_out
from podium.spec.models import Pipeline, RetryPolicy, Step
from podium.spec.references import Ref, resolve
from podium.spec.seeds import step_seed
from podium.spec.vocabulary import TASK_INPUTS, ArtifactType, Task
from podium.store.records import ArtifactRecord

#: Input types whose values are file paths, stored as artifacts when a step refers to them
#: (``text`` and ``json`` inputs are values, as ``string`` and ``list`` are: see docs/spec.md)
ARTIFACT_INPUT_TYPES = frozenset({"image", "audio", "video", "mesh"})


class Artifact(InputArtifact):
    """An input artifact that reads as its text (text types) or its path inside a string."""

    def __str__(self) -> str:
        if self.type in ("text", "subtitles", "json"):
            return self.text()
        return str(self.path)


def as_input(record: ArtifactRecord, path: Path) -> Artifact:
    """An artifact record as a provider input."""
    return Artifact(ArtifactType(record.type), path, record.sha256, dict(record.metadata))


@dataclass
class StepOutputs:
    """What a finished step offers to later references.

    Attributes:
        outputs: ``${steps.ID.outputs}`` in order (``output`` is the first).
        files: every artifact the step produced, per unit, for the output folder.
    """

    outputs: list[Artifact]
    files: list[list[Artifact]]


class Resolver:
    """Looks references up for one step (and one foreach item).

    Args:
        pipeline: the pipeline.
        inputs: resolved input values.
        finished: outputs of finished steps by id.
        input_artifact: turns an artifact-typed pipeline input (a path) into an artifact.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        inputs: Mapping[str, Any],
        finished: Mapping[str, StepOutputs],
        input_artifact: Callable[[str, Any], Artifact],
    ) -> None:
        self.pipeline = pipeline
        self.inputs = inputs
        self.finished = finished
        self.input_artifact = input_artifact
        self.item: Any = None

    def __call__(self, ref: Ref) -> Any:
        """The value of one reference."""
        if ref.kind == "item":
            return self.item
        if ref.kind == "inputs":
            decl = self.pipeline.inputs.get(ref.name)
            value = self.inputs.get(ref.name)
            if decl is not None and decl.type in ARTIFACT_INPUT_TYPES and value is not None:
                return self.input_artifact(ref.name, value)
            return value
        outs = self.finished[ref.name].outputs
        if ref.attr == "outputs" and ref.index is None and ref.meta is None:
            return list(outs)
        index = ref.index or 0
        if index >= len(outs):
            raise InvalidInput(
                f"{ref.text}: step {ref.name} has {len(outs)} output(s)",
                hint="use an index below the number of outputs",
            )
        artifact = outs[index]
        if ref.meta is not None:
            return artifact.metadata.get(ref.meta)
        return artifact


def _slot_value(value: Any) -> InputValue:
    if isinstance(value, list | tuple):
        flat: list[InputArtifact] = []
        for v in value:
            flat.extend(v if isinstance(v, list | tuple) else [v])
        return tuple(a for a in flat if isinstance(a, InputArtifact))
    if isinstance(value, InputArtifact):
        return value
    raise InvalidInput(f"input {value!r} is not an artifact", hint="bind slots to step outputs")


def _inputs(step: Step, resolved: Mapping[str, Any], prompt: Any) -> dict[str, InputValue]:
    slots = {s.name: s for s in TASK_INPUTS[step.task]}
    out: dict[str, InputValue] = {}
    for name, value in resolved.items():
        slot = slots.get(name)
        if value is None and slot is not None and slot.optional:
            continue  # an optional input left unset (`required: false`) binds nothing
        v = _slot_value(value)
        if slot is not None and slot.many and isinstance(v, InputArtifact):
            v = (v,)
        out[name] = v
    # a framing given as an image reference in the prompt is an input slot, too
    if isinstance(prompt, dict):
        for name in ("first_frame", "last_frame", "reference"):
            if isinstance(prompt.get(name), InputArtifact) and name in slots and name not in out:
                out[name] = prompt[name]
    return out


def build_units(
    step: Step,
    resolver: Resolver,
    *,
    base_seed: int,
    retry: RetryPolicy,
    profile: str | None = None,
) -> list[Unit]:
    """The units of work of ``step``, references resolved.

    Args:
        step: the step.
        resolver: looks references up.
        base_seed: the pipeline seed (``consistency.seed`` or ``--seed``).
        retry: the pipeline's retry policy (the step's own wins).
        profile: the output profile (``--profile``) a final cut gets unless its params say one;
            part of its params, so a delivery cut never hits a demo cut's cache entry.
    """
    policy = step.retry or retry

    def unit(key: str, index: int | None, prompt: Any, params: dict[str, Any], seed: int) -> Unit:
        if profile and step.task == Task.COMPOSE_VIDEO and "profile" not in params:
            params = {**params, "profile": profile}
        inputs = _inputs(step, resolve(step.inputs, resolver), prompt)
        return Unit(
            key,
            step,
            index,
            prompt,
            inputs,
            params,
            seed,
            policy,
            step.timeout_s,
            step.route.hedge_after_s,
            step.cache,
        )

    if step.foreach is not None:
        items = resolve(step.foreach, resolver)
        if not isinstance(items, list | tuple):
            items = [items]
        units = []
        own = explicit_seed(step)
        for i, item in enumerate(items):
            resolver.item = item
            seed = step_seed(base_seed, step.id, i, own)
            prompt = resolve(step.prompt, resolver)
            params = {**resolve(step.params, resolver), "seed": seed}
            units.append(unit(f"{step.id}[{i}]", i, prompt, params, seed))
        resolver.item = None
        return units
    variants = expand(step, base_seed)
    many = fans_out(step)
    units = []
    for v in variants:
        raw_prompt, raw_params = apply(step, v)
        prompt = resolve(raw_prompt, resolver)
        params = resolve(raw_params, resolver)
        key = f"{step.id}[{v.index}]" if many else step.id
        units.append(unit(key, v.index if many else None, prompt, params, v.seed))
    return units


def ordered_files(
    step_id: str, files: Sequence[Sequence[Artifact]], many: bool
) -> list[tuple[str, Artifact]]:
    """Output-folder names ``<step>[-<i>].<ext>`` for a step's artifacts."""
    from podium.spec.vocabulary import FILE_EXTENSIONS

    named: list[tuple[str, Artifact]] = []
    used: set[str] = set()
    for i, unit_files in enumerate(files):
        for art in unit_files:
            stem = f"{step_id}-{i}" if many else step_id
            ext = FILE_EXTENSIONS[ArtifactType(art.type)]
            name = f"{stem}.{ext}"
            n = 2
            while name in used:
                name = f"{stem}-{n}.{ext}"
                n += 1
            used.add(name)
            named.append((name, art))
    return named
