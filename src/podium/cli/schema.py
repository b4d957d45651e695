"""``podium schema``: the JSON Schema of pipeline specs, for editors."""

from __future__ import annotations

import json

import typer

from podium.cli.app import app
from podium.spec.schema import json_schema


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of a pipeline spec (point your editor's YAML plug-in at it)."""
    typer.echo(json.dumps(json_schema(), indent=2))
