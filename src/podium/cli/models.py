"""``podium models``: the catalog, what each model costs and whether it can run here.

``podium models show ID`` prints a whole card, including how a structured prompt becomes that
model's own prompt text.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from podium.catalog import Catalog, ModelCard, load_catalog
from podium.cli.app import app, fail
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings, load_settings
from podium.spec.vocabulary import PROMPT_FIELDS, Task

models_app = typer.Typer(
    help="The model catalog: tasks, prices, latency and quality priors, availability.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(models_app, name="models")


def cli_catalog(settings: Settings) -> Catalog:
    """The catalog a command works with: shipped cards, ``PODIUM_CATALOG_PATH`` directories
    and, with ``PODIUM_ENABLE_FAKE=1``, the testing provider's cards.

    Args:
        settings: the process's settings.
    """
    # podium.testing sits beside podium.cli in the layer table (the contract forbids a static
    # import between siblings), so its card directories are looked up at run time.
    testing = importlib.import_module("podium.testing")
    fake_dirs: list[Path] = testing.catalog_dirs(settings)
    return load_catalog([*fake_dirs, *settings.catalog_dirs])


def wide_console() -> Console:
    """stdout for tables: as wide as the terminal; when piped, ``$COLUMNS`` or 160."""
    console = Console(soft_wrap=True, highlight=False)
    if not console.is_terminal:
        width = os.environ.get("COLUMNS", "")
        console = Console(
            soft_wrap=True, highlight=False, width=int(width) if width.isdigit() else 160
        )
    return console


def price_text(card: ModelCard) -> str:
    """``$0.03/image``, ``$0.30/1k chars`` or ``free``."""
    price = card.price
    if price.unit == "free" or price.usd == 0:
        return "free"
    unit = {"output_second": "s out", "1k_chars": "1k chars", "compute_second": "s compute"}
    return f"${price.usd:g}/{unit.get(price.unit, price.unit)}"


def card_row(card: ModelCard, why: str | None) -> dict[str, Any]:
    """One card as ``podium models --json`` prints it."""
    return {
        "id": card.id,
        "version": card.version,
        "tasks": [str(t) for t in card.tasks],
        "offline": card.offline,
        "price": {"usd": card.price.usd, "unit": card.price.unit},
        "latency_p95_s": card.priors.latency_p95_s,
        "quality": card.priors.quality,
        "available": why is None,
        "why": why,
    }


@models_app.callback()
def models_cmd(
    ctx: typer.Context,
    task: str | None = typer.Option(None, "--task", help="Only models that do this task."),
    provider: str | None = typer.Option(None, "--provider", help="Only this provider's models."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """List the models of the catalog and whether each can run here (and if not, why)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    catalog = cli_catalog(settings)
    if task is not None and task not in {t.value for t in Task}:
        raise fail(f"unknown task {task!r} — one of {', '.join(t.value for t in Task)}", 2)
    providers = sorted({c.provider for c in catalog})
    if provider is not None and provider not in providers:
        raise fail(f"no provider {provider!r} in the catalog — one of {', '.join(providers)}", 2)
    cards = [
        c
        for c in sorted(catalog, key=lambda c: c.id)
        if (task is None or task in c.tasks) and (provider is None or c.provider == provider)
    ]
    registry = ProviderRegistry(settings)
    rows = [card_row(c, registry.check(c)) for c in cards]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "version", "tasks", "offline", "price", "p95", "quality", "available")
    for card, row in zip(cards, rows, strict=True):
        table.add_row(
            card.id,
            card.version,
            ", ".join(row["tasks"]),
            "yes" if card.offline else "no",
            price_text(card),
            f"{card.priors.latency_p95_s:g} s",
            f"{card.priors.quality:.2f}",
            "yes" if row["available"] else f"[yellow]{escape(row['why'])}[/yellow]",
        )
    wide_console().print(table)


@models_app.command("show")
def show_cmd(
    model: str = typer.Argument(..., help="provider/model (an @version suffix is ignored)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Print a whole card, and how a structured prompt becomes its prompt text."""
    settings = load_settings()
    card = cli_catalog(settings).get(model)
    why = ProviderRegistry(settings).check(card)
    data = card.model_dump(mode="json", exclude_none=True)
    data["available"] = why is None
    data["why"] = why
    data["source_file"] = card.source_file
    example = {field: f"<{field}>" for field in PROMPT_FIELDS[card.tasks[0]]}
    data["prompt_example"] = {"structured": example, "rendered": card.render_prompt(example)}
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    console = Console(soft_wrap=True, highlight=False)
    console.print(Text.assemble((card.ref, "bold"), "  ", card.name or ""))
    for key, value in data.items():
        if key in ("id", "version", "name", "prompt_example") or value in ({}, [], None):
            continue
        console.print(Text.assemble((key, "cyan"), ": ", _text(value)))
    console.print(Text.assemble(("prompt", "cyan"), ": a structured prompt"))
    console.print(f"  {json.dumps(example)}", markup=False)
    console.print("  becomes this model's prompt text:", markup=False)
    console.print(f"  {data['prompt_example']['rendered'] or '(no prompt text)'}", markup=False)


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)
