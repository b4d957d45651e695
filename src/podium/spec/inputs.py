"""Pipeline input values: ``--set key=value`` strings and defaults coerced to declared types."""

from __future__ import annotations

import json
from typing import Any

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce_input(kind: str, raw: str) -> Any:
    """The value of a ``--set`` string for an input of type ``kind``.

    Lists accept JSON (``["16:9","9:16"]``) or comma-separated text (``16:9,9:16``); ``json``
    inputs take JSON; media inputs (``image``, ``audio`` ...) take a file path.

    Args:
        kind: the declared input type.
        raw: the text given on the command line.

    Raises:
        ValueError: the text does not fit the type.
    """
    text = raw.strip()
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("not an integer") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError("not a number") from None
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("not true/false")
    if kind == "list":
        if text.startswith("["):
            value = _json(text)
            if not isinstance(value, list):
                raise ValueError("not a list")
            return value
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind == "json":
        return _json(text)
    return raw


def coerce_default(kind: str, value: Any) -> Any:
    """A declared default, checked (and if given as text, coerced) against its type.

    Args:
        kind: the declared input type.
        value: the default from the spec.

    Raises:
        ValueError: the default does not fit the type.
    """
    if isinstance(value, str) and kind in ("int", "float", "bool", "list"):
        return coerce_input(kind, value)
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (int, float),
        "bool": (bool,),
        "list": (list,),
    }
    types = expected.get(kind)
    if kind in ("int", "float") and isinstance(value, bool):
        raise ValueError(f"not {'an integer' if kind == 'int' else 'a number'}")
    if types is not None and not isinstance(value, types):
        raise ValueError(f"not of type {kind}")
    if kind in ("string", "text", "image", "audio", "video", "mesh") and isinstance(
        value, dict | list
    ):
        raise ValueError(f"not of type {kind}")
    if kind == "float":
        return float(value)
    if kind in ("string", "text") and not isinstance(value, str):
        return str(value)
    return value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
