"""Writing specs and collecting the problems they yield."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from podium.errors import Problem, SpecError
from podium.spec.loader import load_pipeline

SpecFile = Callable[[str], Path]


def writer(path: Path) -> SpecFile:
    """A function writing dedented YAML to ``path``."""

    def write(text: str) -> Path:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def problems_of(path: Path, sets: dict[str, str] | None = None) -> list[Problem]:
    """The problems loading ``path`` raises (fails the test if it loads cleanly)."""
    with pytest.raises(SpecError) as info:
        load_pipeline(path, sets or {})
    return info.value.problems


def only(problems: list[Problem], needle: str) -> Problem:
    """The single problem whose message contains ``needle``."""
    found = [p for p in problems if needle in p.message]
    assert len(found) == 1, [p.one_line() for p in problems]
    return found[0]


def at(problem: Problem) -> tuple[int | None, int | None, str]:
    """``(line, col, field path)`` of a problem."""
    return problem.line, problem.col, problem.path
