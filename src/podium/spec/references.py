"""The ``${...}`` reference language of DESIGN.md, and the step graph it implies.

Forms: ``${inputs.NAME}``, ``${steps.ID.output}``, ``${steps.ID.outputs}``,
``${steps.ID.outputs[i]}``, artifact metadata ``${steps.ID.output.duration_s}`` (also
``width``, ``height``, ``fps``, ``sample_rate``; after ``outputs[i]`` too) and ``${item}``
inside a ``foreach`` step. There is no arithmetic.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from podium.spec.models import Pipeline, Step

META_FIELDS = ("duration_s", "width", "height", "fps", "sample_rate")

_REF = re.compile(r"\$\{([^{}]*)\}")
NAME = r"[A-Za-z_][A-Za-z0-9_-]*"  # what ${inputs.NAME} and ${steps.NAME...} can name
_INPUT = re.compile(rf"^inputs\.({NAME})$")
_STEP = re.compile(rf"^steps\.({NAME})\.(output|outputs)(?:\[(\d+)\])?(?:\.([A-Za-z_0-9]+))?$")


@dataclass(frozen=True)
class Ref:
    """One parsed reference.

    Attributes:
        text: the reference as written, ``${...}``.
        kind: ``inputs``, ``steps`` or ``item``.
        name: the input name or step id (empty for ``item``).
        attr: ``output`` or ``outputs`` for step references, else ``None``.
        index: the ``[i]`` of ``outputs[i]``, if any.
        meta: an artifact metadata field (``duration_s`` ...), if any.
    """

    text: str
    kind: Literal["inputs", "steps", "item"]
    name: str = ""
    attr: Literal["output", "outputs"] | None = None
    index: int | None = None
    meta: str | None = None

    @property
    def is_list(self) -> bool:
        """Whether the reference denotes a list (``outputs`` without an index)."""
        return self.attr == "outputs" and self.index is None and self.meta is None


class BadRef(ValueError):
    """A ``${...}`` that is not a reference of the language.

    Args:
        text: the reference as written.
        reason: what is wrong with it.
        hint: how to write it instead.
    """

    def __init__(self, text: str, reason: str, hint: str) -> None:
        super().__init__(f"{text}: {reason}")
        self.text = text
        self.reason = reason
        self.hint = hint


_FORMS = "${inputs.NAME}, ${steps.ID.output}, ${steps.ID.outputs[i]} or ${item}"


@functools.lru_cache(maxsize=4096)  # pure, and asked for the same texts on every plan and run
def parse_ref(text: str) -> Ref:
    """Parse one ``${...}`` reference.

    Args:
        text: the reference including ``${`` and ``}``.

    Raises:
        BadRef: not a reference of the language.
    """
    body = text[2:-1].strip() if text.startswith("${") and text.endswith("}") else text
    if body == "item":
        return Ref(text, "item")
    match = _INPUT.match(body)
    if match:
        return Ref(text, "inputs", match.group(1))
    match = _STEP.match(body)
    if match:
        step_id, attr, index, meta = match.groups()
        if index is not None and attr != "outputs":
            raise BadRef(
                text,
                "only `outputs` takes an index",
                f"write ${{steps.{step_id}.outputs[{index}]}}",
            )
        if meta is not None and meta not in META_FIELDS:
            raise BadRef(
                text, f"unknown metadata field {meta!r}", f"use one of {', '.join(META_FIELDS)}"
            )
        if meta is not None and attr == "outputs" and index is None:
            raise BadRef(
                text, "metadata needs one artifact", f"write ${{steps.{step_id}.output.{meta}}}"
            )
        return Ref(text, "steps", step_id, attr, int(index) if index else None, meta)  # type: ignore[arg-type]
    if re.search(r"[+*/%]|\s-\s", body):
        raise BadRef(text, "references have no arithmetic", f"write one of {_FORMS}")
    if body.startswith("steps.") and body.count(".") == 1:
        if body == "steps.":
            raise BadRef(text, "no step named", "write ${steps.ID.output}, ID a step's id")
        raise BadRef(
            text, "a step reference needs `.output` or `.outputs`", f"write ${{{body}.output}}"
        )
    raise BadRef(text, "not a reference", f"write one of {_FORMS}")


def scan(value: Any) -> tuple[list[Ref], list[BadRef]]:
    """Every reference in ``value`` (walking strings, lists and dicts), good and bad.

    Args:
        value: a string, list, dict or scalar.
    """
    good: list[Ref] = []
    bad: list[BadRef] = []
    for text in _ref_texts(value):
        try:
            good.append(parse_ref(text))
        except BadRef as exc:
            bad.append(exc)
    return good, bad


def find_refs(value: Any) -> list[Ref]:
    """The well-formed references in ``value``, in order (malformed ones are left out).

    Args:
        value: a string, list, dict or scalar.
    """
    return scan(value)[0]


def refers(value: Any) -> bool:
    """Whether ``value`` is text holding a ``${...}`` reference (its value is known only later)."""
    return isinstance(value, str) and "${" in value


def _ref_texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return list(_texts_in(value)) if "${" in value else []
    if isinstance(value, dict):
        return [t for v in value.values() for t in _ref_texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _ref_texts(v)]
    return []


@functools.lru_cache(maxsize=4096)  # a plan and a run ask for the same strings many times
def _texts_in(text: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in _REF.finditer(text))


def resolve(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """Replace references in ``value`` by what ``lookup`` returns for them.

    A string that is exactly one reference becomes the looked-up object itself (an artifact, a
    list, a number); references embedded in longer strings are replaced by ``str(obj)``; dicts,
    lists and tuples are walked; other values are returned unchanged.

    Args:
        value: what to resolve.
        lookup: called with each parsed reference.

    Raises:
        BadRef: a malformed reference.
    """
    if isinstance(value, str):
        whole = _REF.fullmatch(value.strip())
        if whole:
            return lookup(parse_ref(whole.group(0)))
        return _REF.sub(lambda m: str(lookup(parse_ref(m.group(0)))), value)
    if isinstance(value, dict):
        return {k: resolve(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lookup) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, lookup) for v in value)
    return value


def step_fields(step: Step) -> dict[str, Any]:
    """The fields of a step that may hold references: prompt, inputs, params, foreach.

    Args:
        step: the step.
    """
    return {
        "prompt": step.prompt,
        "inputs": step.inputs,
        "params": step.params,
        "foreach": step.foreach,
    }


def step_refs(step: Step) -> tuple[Ref, ...]:
    """The well-formed references in a step's fields (prompt, inputs, params, foreach).

    Found once per step object (steps are frozen): planning and running ask for them many
    times.

    Args:
        step: the step.
    """
    key = id(step)
    known = _STEP_REFS.get(key)
    if known is not None and known[0]() is step:
        return known[1]
    refs = tuple(find_refs(step_fields(step)))
    # the entry leaves with the step: its id may then name another object
    gone = weakref.ref(step, lambda _, key=key: _STEP_REFS.pop(key, None))  # type: ignore[misc]
    _STEP_REFS[key] = (gone, refs)
    return refs


_STEP_REFS: dict[int, tuple[weakref.ref[Step], tuple[Ref, ...]]] = {}


def step_deps(step: Step) -> set[str]:
    """Ids of the steps that ``step`` references anywhere (prompt, inputs, params, foreach).

    Args:
        step: the step.
    """
    return {r.name for r in step_refs(step) if r.kind == "steps"}


def find_cycle(pipeline: Pipeline) -> list[str] | None:
    """A dependency cycle as step ids (first repeated at the end), or ``None``.

    Args:
        pipeline: the pipeline; references to unknown steps are ignored.
    """
    ids = {s.id for s in pipeline.steps}
    deps = {s.id: sorted(step_deps(s) & ids) for s in pipeline.steps}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for dep in deps[node]:
            if state.get(dep) == 1:
                return [*trail[trail.index(dep) :], dep]
            if dep not in state:
                found = visit(dep, trail)
                if found:
                    return found
        trail.pop()
        state[node] = 2
        return None

    for step in pipeline.steps:
        if step.id not in state:
            found = visit(step.id, [])
            if found:
                return found
    return None


def levels(pipeline: Pipeline) -> list[list[str]]:
    """Steps grouped by depth: each level depends only on earlier levels; spec order within.

    Args:
        pipeline: the pipeline.

    Raises:
        ValueError: the steps form a cycle.
    """
    ids = [s.id for s in pipeline.steps]
    known = set(ids)
    deps = {s.id: step_deps(s) & known for s in pipeline.steps}
    placed: set[str] = set()
    out: list[list[str]] = []
    while len(placed) < len(ids):
        level = [i for i in ids if i not in placed and deps[i] <= placed]
        if not level:
            cycle = find_cycle(pipeline) or []
            raise ValueError(f"steps form a cycle: {' -> '.join(cycle)}")
        out.append(level)
        placed.update(level)
    return out


def topo_order(pipeline: Pipeline) -> list[str]:
    """Step ids in an order where every step comes after the steps it references.

    Args:
        pipeline: the pipeline.

    Raises:
        ValueError: the steps form a cycle.
    """
    return [step_id for level in levels(pipeline) for step_id in level]
