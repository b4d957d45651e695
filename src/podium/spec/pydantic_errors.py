"""pydantic's validation errors, told as spec problems: field path, position and a hint.

pydantic reports union branches and internal tags in an error's ``loc``; this module keeps only
the parts of the path that exist in the spec, merges the branches of one field into one
message, and adds "did you mean" hints from the models' own field names and choices.
"""

from __future__ import annotations

import enum
import types
import typing
from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from podium.errors import Problem, validation_message
from podium.spec.models import Pipeline
from podium.spec.source import FieldPath, SourceMap, format_path
from podium.spec.suggest import hint_for

_TYPE_WORDS = {
    "string_type": "a string",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}
_CHOICE_TYPES = ("literal_error", "enum")
_MAPPING_TYPES = ("dict_type", "model_type", "model_attributes_type")
_BRANCH_NOISE = (*_CHOICE_TYPES, *_MAPPING_TYPES)
_PATTERN_HINTS = {
    "id": "use letters, digits, '_' and '-', starting with a letter or '_'",
    "name": "use letters, digits, '_', '.' and '-'",
}


def translate(
    exc: ValidationError, data: dict[str, Any], source: SourceMap, filename: str
) -> tuple[list[Problem], list[FieldPath]]:
    """Problems for every error of ``exc``, and the spec paths they concern.

    Args:
        exc: pydantic's error.
        data: the plain data that was validated.
        source: positions of the fields of ``data``.
        filename: the name problems are reported under.
    """
    groups: dict[FieldPath, list[ErrorDetails]] = defaultdict(list)
    for err in exc.errors():
        groups[_clean(err["loc"], data, err["type"])].append(err)
    # a literal branch failing on a mapping is noise when the mapping branch says more
    for path in list(groups):
        if any(len(other) > len(path) and other[: len(path)] == path for other in groups):
            kept = [e for e in groups[path] if e["type"] not in _BRANCH_NOISE]
            if kept:
                groups[path] = kept
            else:
                del groups[path]
    problems = [_problem(path, errs, source, filename) for path, errs in groups.items()]
    problems.sort(key=lambda p: (p.line or 0, p.col or 0))
    return problems, list(groups)


def _clean(loc: tuple[int | str, ...], data: Any, kind: str) -> FieldPath:
    """Keep the parts of ``loc`` that walk ``data`` (drop union tags like ``str``)."""
    out: list[str | int] = []
    node: Any = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            out.append(part)
            node = node[part]
        elif i == len(loc) - 1 and kind == "missing" and isinstance(node, dict):
            out.append(str(part))
        # anything else is a union tag (``str``, ``Weights``, ``literal[...]``): dropped
    return tuple(out)


def _problem(
    path: FieldPath, errs: list[ErrorDetails], source: SourceMap, filename: str
) -> Problem:
    kinds = [e["type"] for e in errs]
    first = errs[0]
    name = str(path[-1]) if path else ""
    hint: str | None = "see `podium schema` for the allowed fields and types"
    at_key = False
    if "extra_forbidden" in kinds:
        message = f"unknown key {name!r}"
        hint = hint_for(name, _fields_at(path[:-1]))
        at_key = True
    elif "missing" in kinds:
        message = f"missing required field {name!r}"
        hint = f"add `{name}:`"
        at_key = True
    elif any(k in _CHOICE_TYPES for k in kinds):
        choices = _choices_at(path)
        what = "task" if name == "task" else "value"
        if isinstance(first["input"], str):
            message = f"unknown {what} {first['input']!r}"
            hint = hint_for(first["input"], choices)
        else:  # a list or mapping where one name goes
            mapping = any(k in _MAPPING_TYPES for k in kinds)  # policy: a name or weights
            wanted = f"one {what} or a mapping" if mapping else f"one {what}"
            message = f"expected {wanted}, got {_kind_of(first['input'])}"
            if choices:
                hint = f"write one of {', '.join(choices)}"
                hint += ", or a mapping (see `podium schema`)" if mapping else ""
    elif "string_pattern_mismatch" in kinds:
        message = f"{first['input']!r} is not a valid {name or 'value'}"
        hint = _PATTERN_HINTS.get(name, hint)
    elif "too_short" in kinds and name == "steps":
        message = "a pipeline needs at least one step"
        hint = "add a step under `steps:`"
    elif first["type"] in _BOUNDS and "ctx" in first:
        op, key = _BOUNDS[first["type"]]
        message = f"must be {op} {first['ctx'][key]}, got {first['input']!r}"
        hint = f"give a value {op} {first['ctx'][key]}"
    elif all(k in _TYPE_WORDS for k in kinds):
        words = list(dict.fromkeys(_TYPE_WORDS[k] for k in kinds))
        message = f"expected {' or '.join(words)}, got {_kind_of(first['input'])}"
    else:
        message = "; ".join(dict.fromkeys(validation_message(e) for e in errs))
    pos = source.nearest(*path) if at_key else source.nearest(*path, value=True)
    return Problem(
        message,
        file=filename,
        line=pos[0] if pos else None,
        col=pos[1] if pos else None,
        path=format_path(path),
        hint=hint,
    )


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    return repr(value) if isinstance(value, str) else type(value).__name__


def _annotation_at(path: FieldPath) -> Any:
    """The type annotation of the field at ``path`` in :class:`Pipeline` (``None`` if lost)."""
    ann: Any = Pipeline
    for part in path:
        ann = _step_into(ann, part)
        if ann is None:
            return None
    return ann


def _step_into(ann: Any, part: str | int) -> Any:
    for option in _options(ann):
        if isinstance(option, type) and issubclass(option, BaseModel):
            info = option.model_fields.get(str(part))
            if info is not None:
                return info.annotation
        origin = typing.get_origin(option)
        args = typing.get_args(option)
        if origin is dict and isinstance(part, str) and args:
            return args[1]
        if origin in (list, tuple) and isinstance(part, int) and args:
            return args[0]
    return None


def _options(ann: Any) -> tuple[Any, ...]:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return tuple(a for arg in typing.get_args(ann) for a in _options(arg))
    return (ann,)


def _fields_at(path: FieldPath) -> list[str]:
    """Field names a mapping at ``path`` accepts."""
    fields: list[str] = []
    for option in _options(_annotation_at(path)):
        if isinstance(option, type) and issubclass(option, BaseModel):
            fields.extend(option.model_fields)
    return fields


def _choices_at(path: FieldPath) -> list[str]:
    """Allowed values of a literal or enum field at ``path``."""
    out: list[str] = []
    for option in _options(_annotation_at(path)):
        if typing.get_origin(option) is typing.Literal:
            out.extend(str(a) for a in typing.get_args(option))
        elif isinstance(option, type) and issubclass(option, enum.Enum):
            out.extend(str(m.value) for m in option)
        elif typing.get_origin(option) is tuple:
            out.extend(_choices_at_type(typing.get_args(option)[0]))
    return out


def _choices_at_type(ann: Any) -> list[str]:
    if typing.get_origin(ann) is typing.Literal:
        return [str(a) for a in typing.get_args(ann)]
    return []
