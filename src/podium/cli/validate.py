"""``podium validate FILE``: every problem of a spec at once, one line each, before it runs."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import typer

from podium.catalog import Catalog, load_catalog
from podium.catalog.checks import validate_file
from podium.cli.app import app, err_console
from podium.errors import Problem, SpecError
from podium.settings import Settings, load_settings


def parse_sets(values: list[str]) -> tuple[dict[str, str], list[Problem]]:
    """``--set key=value`` options as a mapping, and a problem for each malformed one.

    Args:
        values: the raw ``--set`` values.
    """
    sets: dict[str, str] = {}
    problems: list[Problem] = []
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(
                    f"--set {raw!r} is not key=value", file="--set", hint="write --set name=value"
                )
            )
            continue
        sets[key.strip()] = value
    return sets, problems


def catalog_for(settings: Settings) -> tuple[Catalog, list[Problem]]:
    """The catalog a spec is checked against (the fake testing cards too when enabled).

    Args:
        settings: effective settings.
    """
    dirs = list(settings.catalog_dirs)
    if settings.enable_fake:
        # podium.testing sits beside podium.cli in the layer table, so it is found at run time
        testing = importlib.import_module("podium.testing")
        extra = getattr(testing, "catalog_dirs", None)
        if extra is not None:
            dirs += [d for d in extra(settings) if d not in dirs]
    try:
        return load_catalog(dirs), []
    except SpecError as exc:
        return load_catalog(), exc.problems


@app.command("validate")
def validate_cmd(
    file: Path = typer.Argument(..., help="The pipeline spec (YAML).", show_default=False),
    set_: list[str] = typer.Option([], "--set", help="Override an input: --set key=value."),
    strict: bool = typer.Option(False, "--strict", help="Treat lint warnings as errors."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Check a spec (structure, references, catalog, prompt advice) without running anything."""
    sets, problems = parse_sets(set_)
    catalog, card_problems = catalog_for(load_settings())
    problems += card_problems
    try:
        _, found = validate_file(file, catalog, sets, strict)
    except SpecError as exc:
        found = exc.problems
    problems += found
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if as_json:
        doc = {
            "file": str(file),
            "ok": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "problems": [p.to_dict() for p in problems],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for problem in problems:
            typer.echo(problem.one_line())
        summary = f"{file}: {errors} error(s), {warnings} warning(s)"
        err_console.print(summary if errors else f"{summary} — ok", markup=False)
    raise typer.Exit(1 if errors else 0)
