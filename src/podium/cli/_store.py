"""What the store's commands share: opening the store, and one clear line for unknown ids."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from podium.cli.app import fail
from podium.settings import load_settings
from podium.store.open import Store, open_store


@contextmanager
def cli_store() -> Iterator[Store]:
    """The store named by the settings, closed when the command ends."""
    store = open_store(load_settings())
    try:
        yield store
    finally:
        store.close()


def unknown_run(run_id: str, exc: KeyError) -> typer.Exit:
    """The one line printed for a run id that names no run (or several)."""
    reason = str(exc.args[0]) if exc.args else f"no run '{run_id}'"
    return fail(f"{reason} — see `podium runs`")


def unknown_artifact(sha: str, exc: KeyError) -> typer.Exit:
    """The one line printed for an artifact id that names no artifact (or several)."""
    reason = str(exc.args[0]) if exc.args else f"no artifact '{sha}'"
    return fail(f"{reason} — see `podium show RUN` for a run's outputs")


def echo_json(doc: Any) -> None:
    """Print exactly one JSON document on stdout."""
    typer.echo(json.dumps(doc, indent=2, default=str))


def console() -> Console:
    """A console for tables on stdout (wide enough not to fold ids when piped)."""
    return Console(highlight=False, soft_wrap=False, width=None if _tty() else 160)


def _tty() -> bool:
    import sys

    return sys.stdout.isatty()


def when(ts: float | None) -> str:
    """A unix time as local ``YYYY-MM-DD HH:MM:SS`` (empty for none)."""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def money(value: float | None) -> str:
    """USD with four decimals (empty for none)."""
    return "" if value is None else f"${value:.4f}"


def secs(value: float | None) -> str:
    """Seconds with two decimals (empty for none)."""
    return "" if value is None else f"{value:.2f} s"
