"""Checks of a spec against the model catalog, and the whole ``podium validate`` pass.

:func:`check_catalog` finds what only the catalog can tell: a pinned or excluded model that does
not exist, a task no card runs, a duration, size, frame rate or aspect ratio no capable model
supports, a param no capable model declares. :func:`validate_file` runs every check at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from podium.catalog.card import ModelCard
from podium.catalog.catalog import Catalog
from podium.errors import Problem, SpecError
from podium.spec.fanout import vary_targets
from podium.spec.lint import lint
from podium.spec.loader import LoadedSpec, load_partial, sort_problems
from podium.spec.models import Step
from podium.spec.source import FieldPath
from podium.spec.suggest import close_matches, hint_for
from podium.spec.validate import check
from podium.spec.vocabulary import COMMON_PARAMS, Task

_EMPTY: Mapping[str, str] = {}
# Fields other than params that steer a model; never reported as undeclared params.
_KNOWN_PARAMS = {*COMMON_PARAMS, "duration_s"}


def validate_file(
    path: str | Path, catalog: Catalog, sets: Mapping[str, str] = _EMPTY, strict: bool = False
) -> tuple[LoadedSpec, list[Problem]]:
    """Load a spec and run every check: structure, references, catalog and the prompt linter.

    Args:
        path: the spec file.
        catalog: the model catalog to check against.
        sets: ``--set`` overrides of the pipeline's inputs.
        strict: treat warnings as errors.

    Returns:
        The loaded spec and its warnings (when there is no error).

    Raises:
        SpecError: at least one error; ``problems`` holds every problem, warnings included.
    """
    loaded, problems = load_partial(path, sets)
    if loaded is not None:
        problems = problems + check(loaded) + check_catalog(loaded, catalog) + lint(loaded)
    if strict:
        problems = [_as_error(p) for p in problems]
    problems = sort_problems(problems)
    if loaded is None or any(p.severity == "error" for p in problems):
        raise SpecError(problems)
    return loaded, problems


def _as_error(problem: Problem) -> Problem:
    if problem.severity == "error":
        return problem
    data = problem.to_dict()
    data["severity"] = "error"
    data["message"] = f"{problem.message} (--strict)"
    return Problem(**data)  # type: ignore[arg-type]


def check_catalog(loaded: LoadedSpec, catalog: Catalog) -> list[Problem]:
    """Problems only the catalog can tell about ``loaded``.

    Args:
        loaded: the loaded spec.
        catalog: the model catalog.
    """
    out: list[Problem] = []
    for index, step in enumerate(loaded.pipeline.steps):
        if index not in loaded.broken_steps:
            out += _step_problems(loaded, catalog, index, step)
    return out


def _reference_problems(
    loaded: LoadedSpec, catalog: Catalog, base: FieldPath, step: Step
) -> list[Problem]:
    """Excluded models that do not exist; a ``select`` with no score model to judge it."""
    out: list[Problem] = []
    ids = [card.id for card in catalog]
    providers = catalog.providers()
    for i, name in enumerate(step.route.exclude):
        if name not in catalog and name not in providers:
            hint = hint_for(name, [*ids, *sorted(providers)])
            out.append(
                loaded.problem(
                    (*base, "route", "exclude", i),
                    f"unknown model or provider {name!r}",
                    hint=hint,
                    value=True,
                )
            )
    if step.select is not None and not catalog.for_task(Task.SCORE):
        out.append(
            loaded.problem(
                (*base, "select"),
                "`select` needs a score model and the catalog has none",
                hint="add a card for task score, or remove `select`",
            )
        )
    return out


def _step_problems(loaded: LoadedSpec, catalog: Catalog, index: int, step: Step) -> list[Problem]:
    base: FieldPath = ("steps", index)
    out = _reference_problems(loaded, catalog, base, step)
    ids = [card.id for card in catalog]
    runnable = catalog.for_task(step.task)
    if not runnable:
        out.append(
            loaded.problem(
                (*base, "task"),
                f"no model in the catalog runs task {step.task}",
                hint="add a model card (see `podium models`) or pick another task",
                value=True,
            )
        )
        return out
    pin = step.route.pin
    if pin is not None:
        problem = _pin_problem(catalog, step, pin, ids)
        if problem:
            out.append(
                loaded.problem((*base, "route", "pin"), problem[0], hint=problem[1], value=True)
            )
            return out
        runnable = [catalog.get(pin)]
    capable = [
        c
        for c in runnable
        if c.id not in step.route.exclude and c.provider not in step.route.exclude
    ]
    if not capable:
        out.append(
            loaded.problem(
                (*base, "route", "exclude"),
                f"every model of task {step.task} is excluded",
                hint="exclude fewer models",
            )
        )
        return out
    for need in step.route.needs:
        if need == "scene":
            continue  # a property of the input images, checked by the router
        having = [c for c in capable if need in c.capabilities]
        if not having:
            out.append(
                loaded.problem(
                    (*base, "route", "needs"),
                    f"no model of task {step.task} declares {need!r}",
                    hint=f"models: {', '.join(c.id for c in capable[:5])}",
                    value=True,
                )
            )
            return out
        capable = having
    out += _limit_problems(loaded, base, step, capable)
    out += _param_problems(loaded, base, step, capable)
    return out


def _pin_problem(catalog: Catalog, step: Step, pin: str, ids: list[str]) -> tuple[str, str] | None:
    model, _, version = pin.partition("@")
    if model not in catalog:
        close = close_matches(model, ids)
        hint = (
            f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else "see `podium models`"
        )
        return f"unknown model {model!r}", hint
    card = catalog.get(model)
    if step.task not in card.tasks:
        return f"{model} cannot run task {step.task}", f"it runs {', '.join(card.tasks)}"
    if version and version != card.version:
        return f"the catalog has {card.ref}, not version {version}", f"pin {card.ref} or {model}"
    return None


# (field path under the step, limit test, description of what the cards allow)
_Limit = tuple[FieldPath, Callable[[ModelCard, Any], bool], Callable[[ModelCard], str]]


def _duration_range(card: ModelCard) -> str:
    low, high = card.limits.min_duration_s, card.limits.max_duration_s
    return f"{low or 0:g}-{'any' if high is None else format(high, 'g')} s"


def _limits() -> list[_Limit]:
    def dur(c: ModelCard, v: Any) -> bool:
        lim = c.limits
        return (lim.max_duration_s is None or v <= lim.max_duration_s) and (
            lim.min_duration_s is None or v >= lim.min_duration_s
        )

    return [
        (
            ("prompt", "duration_s"),
            dur,
            _duration_range,
        ),
        (
            ("params", "duration_s"),
            dur,
            _duration_range,
        ),
        (
            ("params", "width"),
            lambda c, v: c.limits.max_width is None or v <= c.limits.max_width,
            lambda c: f"width <= {c.limits.max_width}",
        ),
        (
            ("params", "height"),
            lambda c, v: c.limits.max_height is None or v <= c.limits.max_height,
            lambda c: f"height <= {c.limits.max_height}",
        ),
        (
            ("params", "fps"),
            lambda c, v: c.limits.fps is None or v in c.limits.fps,
            lambda c: f"fps {c.limits.fps}",
        ),
        (
            ("params", "aspect_ratio"),
            lambda c, v: c.limits.aspect_ratios is None or v in c.limits.aspect_ratios,
            lambda c: f"{', '.join(c.limits.aspect_ratios or ())}",
        ),
        (
            ("params", "sample_rate"),
            lambda c, v: c.limits.sample_rates is None or v in c.limits.sample_rates,
            lambda c: f"sample rates {c.limits.sample_rates}",
        ),
    ]


def _values(step: Step, field: FieldPath) -> list[tuple[FieldPath, Any]]:
    """The literal values a step gives a field: its own, and each of ``variants.vary``."""
    where, name = field
    source = step.prompt if where == "prompt" else step.params
    found: list[tuple[FieldPath, Any]] = []
    if isinstance(source, dict) and name in source:
        found.append((field, source[name]))
    if step.variants is not None:
        for i, value in enumerate(step.variants.vary.get(str(name), [])):
            found.append((("variants", "vary", name, i), value))
    return [(p, v) for p, v in found if _literal(v)]


def _literal(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | str)
        and "${" not in str(value)
    )


def _limit_problems(
    loaded: LoadedSpec, base: FieldPath, step: Step, capable: list[ModelCard]
) -> list[Problem]:
    out: list[Problem] = []
    for field, fits, describe in _limits():
        for path, value in _values(step, field):
            try:
                ok = [c for c in capable if fits(c, value)]
            except TypeError:
                continue  # a wrong type is reported by the spec checks
            if not ok:
                allowed = "; ".join(f"{c.id}: {describe(c)}" for c in capable[:4])
                out.append(
                    loaded.problem(
                        (*base, *path),
                        f"no model of task {step.task} supports {field[1]} {value!r}",
                        hint=f"supported: {allowed}",
                        value=True,
                    )
                )
    return out


def _param_problems(
    loaded: LoadedSpec, base: FieldPath, step: Step, capable: list[ModelCard]
) -> list[Problem]:
    declared = {name for card in capable for name in card.params}
    names = list(step.params)
    if step.variants is not None:
        varied = vary_targets(step)
        names += [n for n in step.variants.vary if n not in step.params and varied[n] == "params"]
    out: list[Problem] = []
    for name, value in step.params.items():
        specs = [(card, card.params[name]) for card in capable if name in card.params]
        if not specs or not _literal(value):
            continue
        why = [spec.refuses(value) for _, spec in specs]
        if all(why):  # every model that takes it would refuse this value
            out.append(
                loaded.problem(
                    (*base, "params", name),
                    f"{why[0]}, for every model that declares {name!r} "
                    f"({', '.join(card.id for card, _ in specs[:3])})",
                    hint=f"see `podium models --task {step.task}` for what {name!r} takes",
                    code="catalog",
                )
            )
    for name in names:
        if name in _KNOWN_PARAMS or name in declared:
            continue
        where = ("params", name) if name in step.params else ("variants", "vary", name)
        hint = (
            hint_for(name, sorted(declared)) if declared else "no capable model declares any params"
        )
        out.append(
            loaded.problem(
                (*base, *where),
                f"no model of task {step.task} declares param {name!r}",
                hint=hint,
                severity="warning",
                code="catalog",
            )
        )
    return out
