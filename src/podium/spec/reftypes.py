"""What a reference denotes: an artifact type, a list of them, a number, or any value.

Used to check that an output can feed the slot it is bound to (audio into ``image-to-video`` is
an error) before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.spec.fanout import fans_out
from podium.spec.models import Pipeline, Step
from podium.spec.references import Ref, parse_ref
from podium.spec.vocabulary import TASK_OUTPUTS, ArtifactType, Slot

META_BY_TYPE: dict[str, tuple[str, ...]] = {
    "image": ("width", "height"),
    "video": ("duration_s", "width", "height", "fps"),
    "audio": ("duration_s", "sample_rate"),
}
_INPUT_LABELS = {"int": "number", "float": "number", "list": "any"}


@dataclass(frozen=True)
class RefType:
    """What a reference denotes.

    Attributes:
        label: an artifact type (``image`` ...), ``string``, ``number``, ``bool`` or ``any``.
        types: for a list, the artifact types it may hold.
        is_list: whether it is a list.
        error: why it does not resolve, if it does not.
        hint: what to do about ``error``.
    """

    label: str
    types: tuple[str, ...] = ()
    is_list: bool = False
    error: str | None = None
    hint: str | None = None


def _bad(error: str, hint: str) -> RefType:
    return RefType("any", error=error, hint=hint)


def ref_type(
    pipeline: Pipeline, ref: Ref, step: Step | None, unknown: frozenset[str] = frozenset()
) -> RefType:
    """What ``ref`` denotes when used inside ``step`` (``step`` matters for ``${item}``).

    Args:
        pipeline: the pipeline.
        ref: the reference.
        step: the step it appears in, if any.
        unknown: ids of steps whose outputs cannot be known (denote ``any``).
    """
    if ref.kind == "item":
        if step is None or step.foreach is None:
            return _bad("${item} outside a foreach step", "add `foreach:` to the step")
        try:
            source = parse_ref(step.foreach.strip())
        except ValueError:
            return RefType("any")
        if source.kind == "item":
            return RefType("any")
        over = ref_type(pipeline, source, None, unknown)
        if over.error or over.label == "any":
            return RefType("any", error=over.error, hint=over.hint)
        return RefType(over.types[0] if over.types else over.label)
    if ref.kind == "inputs":
        decl = pipeline.inputs.get(ref.name)
        if decl is None:
            return _bad(f"no input {ref.name!r}", "declare it under `inputs:`")
        label = _INPUT_LABELS.get(decl.type, decl.type)
        return RefType(label, is_list=decl.type == "list")
    if ref.name in unknown:
        return RefType("any", is_list=ref.is_list)
    return _step_ref_type(pipeline, ref)


def _step_ref_type(pipeline: Pipeline, ref: Ref) -> RefType:
    try:
        target = pipeline.step(ref.name)
    except KeyError:
        return _bad(f"no step {ref.name!r}", "check the step id")
    outs = [str(t) for t in TASK_OUTPUTS[target.task]]
    many = fans_out(target)
    if ref.attr == "outputs" and ref.index is None:
        return RefType("list", types=tuple(outs[:1] if many else outs), is_list=True)
    if ref.index is not None and not many and ref.index >= len(outs):
        listing = ", ".join(f"outputs[{i}] is {t}" for i, t in enumerate(outs))
        return _bad(
            f"step {target.id!r} ({target.task}) has {len(outs)} output(s)",
            f"{listing}",
        )
    label = outs[0] if ref.index is None or many else outs[ref.index]
    if ref.meta is not None:
        if ref.meta not in META_BY_TYPE.get(label, ()):
            allowed = ", ".join(META_BY_TYPE.get(label, ())) or "none"
            return _bad(f"{label} outputs have no {ref.meta}", f"metadata of {label}: {allowed}")
        return RefType("number")
    return RefType(label)


def slot_accepts(slot: Slot, kind: RefType) -> tuple[str, str] | None:
    """``(message, hint)`` when a value of ``kind`` cannot fill ``slot``, else ``None``.

    Args:
        slot: the task's input slot.
        kind: what the bound reference denotes.
    """
    wanted = "|".join(slot.types)
    if kind.is_list and not slot.many:
        return (
            f"slot {slot.name!r} takes one {wanted}, but this is a list",
            "use `output` or `outputs[i]`, or make the step a `foreach`",
        )
    labels = kind.types if kind.is_list and kind.types else (kind.label,)
    if "any" in labels:
        return None
    accepted = {str(t) for t in slot.types}
    wrong = [label for label in labels if label not in accepted]
    if not wrong:
        return None
    if wrong[0] == "string":
        hint = f"declare the input with `type: {slot.types[0]}` (a file path)"
    elif wrong[0] in {str(t) for t in ArtifactType}:
        hint = f"bind a step or input that produces {wanted}"
    else:
        hint = f"bind a reference to an artifact of type {wanted}"
    return f"slot {slot.name!r} takes {wanted}, but gets {', '.join(wrong)}", hint
