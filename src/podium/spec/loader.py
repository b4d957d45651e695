"""Loading a pipeline spec from YAML: every problem at once, each with ``file:line:col``.

:func:`load_pipeline` reads a file, parses it keeping positions, validates it against the
pydantic models, resolves the pipeline's inputs (defaults overridden by ``--set key=value``) and
runs the pure checks of :mod:`podium.spec.validate`. It raises one :class:`SpecError` listing
every problem found, never a traceback, whatever the file holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.error import YAMLError

from podium.errors import Problem, SpecError
from podium.spec.inputs import coerce_default, coerce_input
from podium.spec.models import Pipeline
from podium.spec.pydantic_errors import translate
from podium.spec.source import FieldPath, SourceMap, format_path, parse_yaml
from podium.spec.suggest import did_you_mean

_EMPTY: Mapping[str, str] = {}


@dataclass(frozen=True)
class LoadedSpec:
    """A validated pipeline with where it came from.

    Attributes:
        pipeline: the pipeline.
        path: the file it was read from, if any.
        text: the spec text.
        inputs: resolved input values (defaults overridden by ``--set``, coerced to their type).
        source: field path -> position in ``text``.
        spec_hash: sha256 of the text and the ``--set`` values.
        filename: the name problems are reported under.
        broken_steps: indexes of steps whose task is unknown (only after problems were found;
            later checks skip them).
    """

    pipeline: Pipeline
    path: Path | None
    text: str
    inputs: dict[str, Any]
    source: SourceMap = field(default_factory=SourceMap)
    spec_hash: str = ""
    filename: str = "<spec>"
    broken_steps: frozenset[int] = frozenset()

    def problem(
        self,
        path: FieldPath,
        message: str,
        *,
        hint: str | None = None,
        severity: str = "error",
        code: str = "spec",
        value: bool = False,
    ) -> Problem:
        """A :class:`Problem` located at the field ``path`` of this spec.

        Args:
            path: field path, e.g. ``("steps", 1, "prompt", "lightng")``.
            message: what is wrong.
            hint: what to do.
            severity: ``error`` or ``warning``.
            code: problem code (``spec``, ``lint``, ``catalog``).
            value: point at the field's value rather than its key.
        """
        pos = self.source.nearest(*path, value=value)
        return Problem(
            message,
            file=self.filename,
            line=pos[0] if pos else None,
            col=pos[1] if pos else None,
            path=format_path(path),
            hint=hint,
            severity=severity,
            code=code,
        )


def spec_hash(text: str, sets: Mapping[str, str]) -> str:
    """sha256 of the spec text and the ``--set`` values (order of ``sets`` does not matter).

    Args:
        text: the spec text.
        sets: ``--set`` values.
    """
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(json.dumps(sorted(sets.items())).encode("utf-8"))
    return digest.hexdigest()


def load_pipeline(path: str | Path, sets: Mapping[str, str] = _EMPTY) -> LoadedSpec:
    """Load, validate and check a spec file.

    Args:
        path: the YAML file.
        sets: ``--set key=value`` overrides of the pipeline's inputs.

    Raises:
        SpecError: every problem found (errors only; lint warnings are not raised).
    """
    loaded, problems = load_partial(path, sets)
    return _finish(loaded, problems)


def load_pipeline_text(
    text: str, filename: str = "<spec>", sets: Mapping[str, str] = _EMPTY
) -> LoadedSpec:
    """Like :func:`load_pipeline`, for spec text held in memory.

    Args:
        text: the YAML text.
        filename: the name problems are reported under.
        sets: ``--set`` overrides.

    Raises:
        SpecError: every problem found.
    """
    loaded, problems = load_partial_text(text, filename, sets)
    return _finish(loaded, problems)


def loaded_from_pipeline(pipeline: Pipeline, sets: Mapping[str, str] = _EMPTY) -> LoadedSpec:
    """Wrap a pipeline built in Python so the checks and the runner can take it.

    Args:
        pipeline: the pipeline.
        sets: ``--set`` overrides of its inputs.

    Raises:
        SpecError: an input is missing or a ``--set`` value does not fit its type.
    """
    text = json.dumps(pipeline.model_dump(mode="json"), sort_keys=True)
    loaded = LoadedSpec(pipeline, None, text, {}, SourceMap(), spec_hash(text, sets), "<python>")
    values, problems = _resolve_inputs(loaded, sets)
    loaded = _with_inputs(loaded, values)
    return _finish(loaded, problems)


def _finish(loaded: LoadedSpec | None, problems: list[Problem]) -> LoadedSpec:
    from podium.spec.validate import check  # validate imports this module

    if loaded is not None:
        problems = sort_problems(problems + check(loaded))
    errors = [p for p in problems if p.severity == "error"]
    if errors or loaded is None:
        raise SpecError(errors or problems)
    return loaded


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Problems in reading order: by file, line and column (unlocated ones first).

    Args:
        problems: the problems.
    """
    return sorted(problems, key=lambda p: (p.file or "", p.line or 0, p.col or 0))


def load_partial(
    path: str | Path, sets: Mapping[str, str] = _EMPTY
) -> tuple[LoadedSpec | None, list[Problem]]:
    """Read and validate a spec file without raising.

    Returns the spec (possibly with offending optional fields dropped, so later checks can still
    report their own problems in the same run) or ``None``, and the problems found so far.

    Args:
        path: the YAML file.
        sets: ``--set`` overrides.
    """
    p = Path(path)
    name = str(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return None, [Problem("no such file", file=name, hint="check the path")]
    except IsADirectoryError:
        return None, [Problem("is a directory", file=name, hint="give a pipeline .yaml file")]
    except OSError as exc:
        return None, [Problem(f"cannot read: {exc.strerror}", file=name, hint="check the path")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            Problem(
                f"not UTF-8 text (byte {exc.start})",
                file=name,
                hint="a pipeline spec is a UTF-8 YAML file",
            )
        ]
    loaded, problems = load_partial_text(text, name, sets)
    if loaded is not None:
        loaded = dataclasses.replace(loaded, path=p, filename=name)
    return loaded, problems


def load_partial_text(
    text: str, filename: str = "<spec>", sets: Mapping[str, str] = _EMPTY
) -> tuple[LoadedSpec | None, list[Problem]]:
    """Like :func:`load_partial`, for text held in memory.

    Args:
        text: the YAML text.
        filename: the name problems are reported under.
        sets: ``--set`` overrides.
    """
    hint_shape = "a pipeline is a mapping with `name:` and `steps:` (see docs/spec.md)"
    if "\x00" in text:
        return None, [Problem("not a text file (NUL byte)", file=filename, hint=hint_shape)]
    if not text.strip():
        return None, [Problem("the spec is empty", file=filename, line=1, hint=hint_shape)]
    try:
        data, source = parse_yaml(text)
    except YAMLError as exc:
        return None, [_yaml_problem(exc, filename)]
    except (ValueError, TypeError, RecursionError) as exc:
        return None, [Problem(f"not valid YAML: {exc}", file=filename, hint="fix the syntax")]
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return None, [Problem(f"the spec is a {kind}", file=filename, line=1, hint=hint_shape)]
    digest = spec_hash(text, sets)
    pipeline, problems, broken = _validate(data, source, filename)
    if pipeline is None:
        return None, problems
    loaded = LoadedSpec(pipeline, None, text, {}, source, digest, filename, broken)
    values, input_problems = _resolve_inputs(loaded, sets)
    return _with_inputs(loaded, values), problems + input_problems


def _with_inputs(loaded: LoadedSpec, values: dict[str, Any]) -> LoadedSpec:
    return dataclasses.replace(loaded, inputs=values)


def _yaml_problem(exc: YAMLError, filename: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"not valid YAML: {what}" + (f" ({context})" if context else "")
    hint = "fix the YAML syntax (indentation, a missing ':' or an unclosed quote or bracket)"
    if "duplicate key" in message:
        hint = "each key may appear once in a mapping; remove or rename one"
    if "\t" in str(what) or "tab" in str(what):
        hint = "indent with spaces, not tabs"
    return Problem(
        message,
        file=filename,
        line=mark.line + 1 if mark else None,
        col=mark.column + 1 if mark else None,
        hint=hint,
    )


def _validate(
    data: dict[str, Any], source: SourceMap, filename: str
) -> tuple[Pipeline | None, list[Problem], frozenset[int]]:
    """Validate ``data``; on errors, validate a repaired copy so later checks still run."""
    try:
        return Pipeline.model_validate(data), [], frozenset()
    except ValidationError as exc:
        problems, bad_paths = translate(exc, data, source, filename)
    repaired = _repair(data, bad_paths)
    if repaired is None:
        return None, problems, frozenset()
    try:
        return Pipeline.model_validate(repaired[0]), problems, frozenset(repaired[1])
    except ValidationError:
        return None, problems, frozenset()


def _repair(data: dict[str, Any], paths: list[FieldPath]) -> tuple[dict[str, Any], set[int]] | None:
    """A copy of ``data`` with the fields at ``paths`` dropped or replaced by placeholders.

    Returns the copy and the indexes of steps whose task had to be guessed (later checks skip
    them), or ``None`` when nothing sensible is left to check.
    """
    copy: dict[str, Any] = json.loads(json.dumps(data, default=str))
    broken: set[int] = set()
    steps = copy.get("steps")
    for path in paths:
        if path == ("name",):
            copy["name"] = "invalid"
            continue
        if path[:1] == ("steps",) and len(path) >= 2 and isinstance(steps, list):
            index = path[1]
            if not isinstance(index, int) or index >= len(steps):
                return None
            if len(path) == 2 or not isinstance(steps[index], dict):
                steps[index] = {"id": f"_step{index}", "task": "text"}
                broken.add(index)
                continue
            if path[2:] == ("id",):
                steps[index]["id"] = f"_step{index}"
                continue
            if path[2:] == ("task",):
                steps[index]["task"] = "text"
                broken.add(index)
                continue
        # never drop list items: later problems are located by index
        while path and isinstance(path[-1], int):
            path = path[:-1]
        if path in ((), ("steps",)):
            return None
        parent: Any = copy
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if isinstance(parent, dict):
            parent.pop(str(path[-1]), None)
    return copy, broken


def _resolve_inputs(
    loaded: LoadedSpec, sets: Mapping[str, str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Input values: defaults, overridden by ``--set``, coerced to their declared type."""
    decls = loaded.pipeline.inputs
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key in sets:
        if key not in decls:
            problems.append(
                Problem(
                    f"--set {key}: the pipeline declares no input {key!r}",
                    file=loaded.filename,
                    path="inputs",
                    hint=did_you_mean(key, decls)
                    or f"declare it under `inputs:` ({_names(decls)})",
                )
            )
    for name, decl in decls.items():
        where: FieldPath = ("inputs", name)
        if name in sets:
            try:
                values[name] = coerce_input(decl.type, sets[name])
            except ValueError as exc:
                problems.append(
                    loaded.problem(
                        where,
                        f"--set {name}={sets[name]!r}: {exc}",
                        hint=f"give a value of type {decl.type}",
                    )
                )
        elif decl.default is not None:
            try:
                values[name] = coerce_default(decl.type, decl.default)
            except ValueError as exc:
                problems.append(
                    loaded.problem(
                        (*where, "default"),
                        f"default {decl.default!r}: {exc}",
                        hint=f"give a default of type {decl.type}",
                        value=True,
                    )
                )
        elif decl.is_required:
            problems.append(
                loaded.problem(
                    where,
                    f"input {name!r} is required and has no value",
                    hint=f"pass --set {name}=... or give it a `default:`",
                )
            )
        else:
            values[name] = None
    return values, problems


def _names(decls: Mapping[str, Any]) -> str:
    return ", ".join(decls) if decls else "none declared yet"


__all__ = [
    "LoadedSpec",
    "format_path",
    "load_partial",
    "load_partial_text",
    "load_pipeline",
    "load_pipeline_text",
    "loaded_from_pipeline",
    "spec_hash",
]
