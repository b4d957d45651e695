""" "Did you mean ...?" hints for misspelt keys, fields, tasks, steps and models."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[object], n: int = 3) -> list[str]:
    """The choices closest to ``word`` (case-insensitive), best first.

    Args:
        word: what the user wrote.
        choices: the valid names.
        n: at most this many.
    """
    names = [str(c) for c in choices]
    scored = sorted(
        (
            (difflib.SequenceMatcher(None, word.lower(), name.lower()).ratio(), name)
            for name in names
        ),
        key=lambda pair: -pair[0],
    )
    scored = [(score, name) for score, name in scored if score >= 0.6]
    if not scored:
        return []
    # only the clear favourites: a near-tie is worth showing, a distant second is noise
    best = scored[0][0]
    return [name for score, name in scored[:n] if score >= best - 0.1]


def did_you_mean(word: str, choices: Iterable[object]) -> str | None:
    """``did you mean 'lighting'?`` or ``None`` when nothing is close.

    Args:
        word: what the user wrote.
        choices: the valid names.
    """
    found = close_matches(word, choices)
    if not found:
        return None
    return "did you mean " + " or ".join(repr(f) for f in found) + "?"


def one_of(choices: Iterable[object], limit: int = 12) -> str:
    """``one of: a, b, c`` (shortened after ``limit`` names).

    Args:
        choices: the valid names.
        limit: how many to list.
    """
    names = [str(c) for c in choices]
    shown = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
    return f"one of: {shown}" if names else "none are valid here"


def hint_for(word: str, choices: Iterable[object]) -> str:
    """A did-you-mean hint, or the list of valid names when nothing is close.

    Args:
        word: what the user wrote.
        choices: the valid names.
    """
    names = list(choices)
    return did_you_mean(word, names) or f"use {one_of(names)}"
