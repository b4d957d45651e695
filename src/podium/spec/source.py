"""Where every field of a spec came from: YAML parsed with line and column numbers kept.

ruamel.yaml's round-trip loader records the position of every mapping key, mapping value and
sequence item. :func:`parse_yaml` turns that tree into plain Python data (what pydantic
validates) plus a :class:`SourceMap` from field paths to 1-based ``(line, col)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

FieldPath = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass(frozen=True)
class SourceMap:
    """Field paths to 1-based ``(line, col)`` positions in the spec text.

    Attributes:
        keys: position of each mapping key / sequence item, by field path.
        values: position of each value, by field path.
    """

    keys: Mapping[FieldPath, Position] = field(default_factory=dict)
    values: Mapping[FieldPath, Position] = field(default_factory=dict)

    def locate(self, *path: str | int) -> Position | None:
        """Position of the field at ``path`` (its key, or its item in a list), if recorded.

        Args:
            *path: field path, e.g. ``"steps", 2, "prompt", "lighting"``.
        """
        return self.keys.get(tuple(path))

    def locate_value(self, *path: str | int) -> Position | None:
        """Position of the value at ``path`` (falls back to the key's position).

        Args:
            *path: field path.
        """
        key = tuple(path)
        return self.values.get(key) or self.keys.get(key)

    def nearest(self, *path: str | int, value: bool = False) -> Position | None:
        """Position of ``path`` or of its closest recorded ancestor (for a missing field).

        Args:
            *path: field path.
            value: prefer the value's position over the key's.
        """
        parts = tuple(path)
        while True:
            found = self.locate_value(*parts) if value else self.locate(*parts)
            if found is not None:
                return found
            if not parts:
                return None
            parts = parts[:-1]


def format_path(path: FieldPath) -> str:
    """``("steps", 2, "prompt", "lighting")`` -> ``steps[2].prompt.lighting``.

    Args:
        path: field path.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_yaml(text: str) -> tuple[Any, SourceMap]:
    """Parse YAML text into plain data and the positions of its fields.

    Args:
        text: YAML text.

    Raises:
        ruamel.yaml.error.YAMLError: the text is not valid YAML.
    """
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    tree = yaml.load(text)
    keys: dict[FieldPath, Position] = {}
    values: dict[FieldPath, Position] = {}
    if isinstance(tree, CommentedMap | CommentedSeq):
        keys[()] = values[()] = (tree.lc.line + 1, tree.lc.col + 1)
    data = _plain(tree, (), keys, values)
    return data, SourceMap(keys, values)


def _position(lookup: Callable[[Any], Any], key: Any) -> tuple[int, int] | None:
    try:
        pos = lookup(key)
    except (KeyError, IndexError, TypeError):
        return None
    return (int(pos[0]), int(pos[1])) if pos else None


def _plain(
    node: Any,
    path: FieldPath,
    keys: dict[FieldPath, Position],
    values: dict[FieldPath, Position],
) -> Any:
    # Recursion depth is bounded by the YAML parser's own nesting limit.
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            name = key if isinstance(key, str) else str(key)
            sub = (*path, name)
            # keys merged in with `<<:` have no position of their own: use the mapping's
            here = (node.lc.line, node.lc.col)
            kpos = _position(node.lc.key, key) or here
            vpos = _position(node.lc.value, key) or kpos
            keys[sub] = (kpos[0] + 1, kpos[1] + 1)
            values[sub] = (vpos[0] + 1, vpos[1] + 1)
            out[name] = _plain(value, sub, keys, values)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            sub = (*path, index)
            pos = _position(node.lc.item, index)
            if pos is not None:
                keys[sub] = values[sub] = (pos[0] + 1, pos[1] + 1)
            items.append(_plain(value, sub, keys, values))
        return items
    if isinstance(node, str):
        return str(node)  # drop ruamel's scalar-string subclasses
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.date | dt.datetime):
        return node.isoformat()
    return node
