"""Pure checks of a loaded spec: references, the step graph, slots, types and prompt fields.

:func:`check` needs no catalog and runs nothing; it returns every problem it finds, each located
at the field it concerns. Catalog-dependent checks live in :mod:`podium.catalog.checks`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from podium.errors import Problem
from podium.spec.fanout import variant_total, vary_targets
from podium.spec.loader import LoadedSpec
from podium.spec.models import Pipeline, Step
from podium.spec.references import Ref, find_cycle, parse_ref, refers, scan
from podium.spec.reftypes import RefType, ref_type, slot_accepts
from podium.spec.source import FieldPath
from podium.spec.suggest import hint_for
from podium.spec.vocabulary import PROMPT_FIELDS, TASK_INPUTS, ArtifactType, Slot, Task

_NEEDS_PROMPT = (
    Task.TEXT,
    Task.TEXT_TO_IMAGE,
    Task.TEXT_TO_VIDEO,
    Task.TEXT_TO_SPEECH,
    Task.TEXT_TO_MUSIC,
    Task.TEXT_TO_3D,
)
_NUMERIC_FIELDS = ("duration_s", "tempo_bpm", "rate")
_FRAME_FIELDS = ("first_frame", "last_frame")


def check(loaded: LoadedSpec) -> list[Problem]:
    """Every problem :func:`podium.spec.loader.load_partial` cannot see on its own.

    Args:
        loaded: the loaded spec.
    """
    pipeline = loaded.pipeline
    problems: list[Problem] = []
    problems += _duplicate_ids(loaded)
    for index, step in enumerate(pipeline.steps):
        problems += _references(loaded, index, step)
        if index in loaded.broken_steps:
            continue  # its task is unknown (already reported): nothing more to check
        problems += _slots(loaded, index, step)
        problems += _prompt(loaded, index, step)
        problems += _fanout(loaded, index, step)
    problems += _consistency(loaded)
    cycle = find_cycle(pipeline)
    if cycle:
        index = _index(pipeline, cycle[0])
        problems.append(
            loaded.problem(
                ("steps", index, "id"),
                f"steps form a cycle: {' -> '.join(cycle)}",
                hint="a step cannot depend on its own output; remove one of the references",
                value=True,
            )
        )
    return problems


def _unknown(loaded: LoadedSpec) -> frozenset[str]:
    """Ids of steps whose outputs cannot be known (their task was invalid)."""
    steps = loaded.pipeline.steps
    return frozenset(steps[i].id for i in loaded.broken_steps if i < len(steps))


def _index(pipeline: Pipeline, step_id: str) -> int:
    return next(i for i, s in enumerate(pipeline.steps) if s.id == step_id)


def _duplicate_ids(loaded: LoadedSpec) -> list[Problem]:
    seen: set[str] = set()
    out: list[Problem] = []
    for index, step in enumerate(loaded.pipeline.steps):
        if step.id in seen:
            out.append(
                loaded.problem(
                    ("steps", index, "id"),
                    f"duplicate step id {step.id!r}",
                    hint="give every step its own id",
                    value=True,
                )
            )
        seen.add(step.id)
    return out


def _strings(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string inside ``value`` with its field path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for i, sub in enumerate(value):
            yield from _strings(sub, (*path, i))


def _step_strings(index: int, step: Step) -> Iterator[tuple[FieldPath, str]]:
    base: FieldPath = ("steps", index)
    yield from _strings(step.prompt, (*base, "prompt"))
    yield from _strings(step.inputs, (*base, "inputs"))
    yield from _strings(step.params, (*base, "params"))
    if step.variants is not None:
        yield from _strings(step.variants.vary, (*base, "variants", "vary"))
    yield from _strings(step.foreach, (*base, "foreach"))


def _references(loaded: LoadedSpec, index: int, step: Step) -> list[Problem]:
    out: list[Problem] = []
    for path, text in _step_strings(index, step):
        refs, bad = scan(text)
        for exc in bad:
            out.append(
                loaded.problem(
                    path, f"bad reference {exc.text}: {exc.reason}", hint=exc.hint, value=True
                )
            )
        for ref in refs:
            problem = _ref_problem(loaded, ref, step, in_foreach=path[-1] == "foreach")
            if problem:
                out.append(loaded.problem(path, problem[0], hint=problem[1], value=True))
    return out


def _ref_problem(
    loaded: LoadedSpec, ref: Ref, step: Step, *, in_foreach: bool
) -> tuple[str, str] | None:
    """(message, hint) when ``ref`` does not resolve from inside ``step``."""
    pipeline = loaded.pipeline
    if ref.kind == "item":
        if step.foreach is None or in_foreach:
            return (
                "${item} is only defined inside a foreach step",
                "add `foreach: ${steps.ID.outputs}` to this step, or reference an output directly",
            )
        return None
    if ref.kind == "inputs":
        if ref.name not in pipeline.inputs:
            return (
                f"{ref.text}: the pipeline declares no input {ref.name!r}",
                hint_for(ref.name, pipeline.inputs)
                if pipeline.inputs
                else "declare it under `inputs:`",
            )
        return None
    ids = [s.id for s in pipeline.steps]
    if ref.name not in ids:
        return f"{ref.text}: no step {ref.name!r}", hint_for(ref.name, ids)
    kind = ref_type(pipeline, ref, step, _unknown(loaded))
    if kind.error:
        return f"{ref.text}: {kind.error}", kind.hint or "see docs/spec.md, References"
    return None


def _slots(loaded: LoadedSpec, index: int, step: Step) -> list[Problem]:
    out: list[Problem] = []
    slots = {slot.name: slot for slot in TASK_INPUTS[step.task]}
    base: FieldPath = ("steps", index, "inputs")
    for name, value in step.inputs.items():
        slot = slots.get(name)
        if slot is None:
            hint = (
                hint_for(name, slots) if slots else f"task {step.task} takes no inputs; remove it"
            )
            out.append(
                loaded.problem(
                    (*base, name), f"task {step.task} has no input slot {name!r}", hint=hint
                )
            )
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not slot.many:
            out.append(
                loaded.problem(
                    (*base, name),
                    f"slot {name!r} takes one {slot.types[0]}, not a list",
                    hint="bind one reference",
                    value=True,
                )
            )
            continue
        for item in values:
            if item is not None and not refers(item):
                # a file is handed to a step through a typed input, checked and stored once
                kind_name = slot.types[0]
                article = "an" if kind_name[0] in "aeiou" else "a"
                out.append(
                    loaded.problem(
                        (*base, name),
                        f"slot {name!r} takes {article} {kind_name} from a step or an input, "
                        f"not the value {item!r}",
                        hint=f"declare `inputs: {{file: {{type: {kind_name}, default: "
                        f"{item}}}}}` and bind ${{inputs.file}}",
                        value=True,
                    )
                )
                continue
            kind = _bound_type(loaded, step, item)
            if kind is None:
                continue
            why = slot_accepts(slot, kind)
            if why:
                out.append(loaded.problem((*base, name), why[0], hint=why[1], value=True))
    for slot in slots.values():
        if not slot.optional and slot.name not in step.inputs:
            wanted = ("list of " if slot.many else "") + "|".join(slot.types)
            ref = "${steps.ID.outputs}" if slot.many else "${steps.ID.output}"
            out.append(
                loaded.problem(
                    ("steps", index, "task"),
                    f"task {step.task} needs input {slot.name!r} ({wanted})",
                    hint=f"add `inputs: {{{slot.name}: {ref}}}`",
                )
            )
    return out


def _bound_type(loaded: LoadedSpec, step: Step, text: str) -> RefType | None:
    """The type of what a slot is bound to; ``None`` when it cannot be known (a path, a bad ref)."""
    stripped = text.strip()
    if not (stripped.startswith("${") and stripped.endswith("}") and stripped.count("${") == 1):
        return None
    try:
        ref = parse_ref(stripped)
    except ValueError:
        return None
    kind = ref_type(loaded.pipeline, ref, step, _unknown(loaded))
    return None if kind.error else kind


def _prompt(loaded: LoadedSpec, index: int, step: Step) -> list[Problem]:
    fields = PROMPT_FIELDS[step.task]
    base: FieldPath = ("steps", index, "prompt")
    out: list[Problem] = []
    if step.prompt is None or step.prompt == "" or step.prompt == {}:
        if step.task in _NEEDS_PROMPT:
            out.append(
                loaded.problem(
                    ("steps", index),
                    f"task {step.task} needs a prompt",
                    hint=f"add `prompt:` (a string, or the fields {', '.join(fields)})",
                )
            )
        return out
    if not fields:
        out.append(
            loaded.problem(
                base,
                f"task {step.task} takes no prompt; it is ignored",
                hint="put task-specific settings in `params:`",
                severity="warning",
            )
        )
        return out
    if isinstance(step.prompt, dict):
        for name, value in step.prompt.items():
            if name not in fields:
                out.append(
                    loaded.problem(
                        (*base, name),
                        f"{step.task} prompts have no field {name!r}",
                        hint=hint_for(name, fields),
                    )
                )
            elif name in _NUMERIC_FIELDS and not _number_or_ref(value):
                out.append(
                    loaded.problem(
                        (*base, name),
                        f"{name} must be a number of 0 or more, got {value!r}",
                        hint=f"e.g. `{name}: 5`",
                        value=True,
                    )
                )
            elif name in _FRAME_FIELDS and isinstance(value, str):
                out += _frame_problems(loaded, step, (*base, name), value)
    return out


def _frame_problems(loaded: LoadedSpec, step: Step, path: FieldPath, text: str) -> list[Problem]:
    """A ``first_frame``/``last_frame`` given as a reference must be one image."""
    kind = _bound_type(loaded, step, text)
    if kind is None:
        return []
    frame = Slot(str(path[-1]), (ArtifactType.IMAGE,))
    why = slot_accepts(frame, kind)
    return [loaded.problem(path, why[0], hint=why[1], value=True)] if why else []


def _number_or_ref(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value >= 0
    return isinstance(value, str) and value.strip().startswith("${")


def _fanout(loaded: LoadedSpec, index: int, step: Step) -> list[Problem]:
    out: list[Problem] = []
    base: FieldPath = ("steps", index)
    if step.select is not None:
        if step.variants is None and step.foreach is None:
            out.append(
                loaded.problem(
                    (*base, "select"),
                    "`select` needs `variants` or `foreach` to choose from",
                    hint="add `variants: {count: 4}` or remove `select`",
                )
            )
        if step.select.by != "quality":
            out.append(
                loaded.problem(
                    (*base, "select", "by"),
                    f"select by {step.select.by!r} arrives later",
                    hint="use `by: quality` for now",
                    value=True,
                )
            )
        total = variant_total(step)
        if step.variants is not None and step.select.keep > total:
            out.append(
                loaded.problem(
                    (*base, "select", "keep"),
                    f"keeps {step.select.keep} of only {total} variants",
                    hint=f"keep at most {total}",
                    severity="warning",
                    value=True,
                )
            )
    if step.foreach is not None:
        out += _foreach(loaded, index, step)
    if step.variants is not None:
        for name, target in vary_targets(step).items():
            path = (*base, "variants", "vary", name)
            if target == "prompt" and not isinstance(step.prompt, dict):
                out.append(
                    loaded.problem(
                        path,
                        f"varies prompt field {name!r} but the prompt is plain text",
                        hint="write the prompt as fields (subject, style, ...)",
                    )
                )
            if not step.variants.vary[name]:
                out.append(
                    loaded.problem(
                        path,
                        f"vary {name!r} has no values",
                        hint="list at least one value",
                        value=True,
                    )
                )
    return out


def _foreach(loaded: LoadedSpec, index: int, step: Step) -> list[Problem]:
    path: FieldPath = ("steps", index, "foreach")
    assert step.foreach is not None
    text = step.foreach.strip()
    hint = "use `foreach: ${steps.ID.outputs}` or a list input `${inputs.NAME}`"
    refs, bad = scan(text)
    if bad:
        return []  # already reported by _references
    if len(refs) != 1 or refs[0].text != text:
        return [
            loaded.problem(
                path, "foreach takes exactly one reference to a list", hint=hint, value=True
            )
        ]
    kind = ref_type(loaded.pipeline, refs[0], step, _unknown(loaded))
    if kind.error is None and not kind.is_list:
        return [
            loaded.problem(
                path,
                f"foreach needs a list, {refs[0].text} is one {kind.label}",
                hint=hint,
                value=True,
            )
        ]
    return []


def _consistency(loaded: LoadedSpec) -> list[Problem]:
    out: list[Problem] = []
    pipeline = loaded.pipeline
    ids = [s.id for s in pipeline.steps]
    for name, text in pipeline.consistency.references.items():
        path: FieldPath = ("consistency", "references", name)
        refs, bad = scan(text)
        for exc in bad:
            out.append(
                loaded.problem(
                    path, f"bad reference {exc.text}: {exc.reason}", hint=exc.hint, value=True
                )
            )
        for ref in refs:
            if ref.kind == "steps" and ref.name not in ids:
                out.append(
                    loaded.problem(
                        path,
                        f"{ref.text}: no step {ref.name!r}",
                        hint=hint_for(ref.name, ids),
                        value=True,
                    )
                )
            elif ref.kind == "inputs" and ref.name not in pipeline.inputs:
                out.append(
                    loaded.problem(
                        path,
                        f"{ref.text}: no input {ref.name!r}",
                        hint=hint_for(ref.name, pipeline.inputs),
                        value=True,
                    )
                )
            elif ref.kind == "item":
                out.append(
                    loaded.problem(
                        path,
                        "${item} is only defined inside a foreach step",
                        hint="reference an image output",
                        value=True,
                    )
                )
            else:
                kind = ref_type(pipeline, ref, None, _unknown(loaded))
                if kind.error is None and kind.label not in ("image", "any"):
                    out.append(
                        loaded.problem(
                            path,
                            f"a consistency reference must be an image, {ref.text} is {kind.label}",
                            hint="reference an image step's output",
                            value=True,
                        )
                    )
    return out
