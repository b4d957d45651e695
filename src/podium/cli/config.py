"""``podium config``: the effective settings, secrets masked."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from podium.cli.app import app
from podium.settings import load_settings


@app.command("config")
def config_cmd(
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Print the effective settings (environment over podium.toml over defaults)."""
    values = load_settings().masked()
    if as_json:
        typer.echo(json.dumps(values, indent=2, default=str))
        return
    table = Table("setting", "value", title="podium settings")
    for key, value in values.items():
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)
