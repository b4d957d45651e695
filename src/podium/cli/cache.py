"""``podium cache stats`` and ``podium cache gc``: what the cache holds, and making room."""

from __future__ import annotations

import re

import typer
from rich.table import Table

from podium.cli._store import cli_store, console, echo_json
from podium.cli.app import app, fail
from podium.store.cache import collect_garbage, ledger_savings

cache_app = typer.Typer(help="The content-addressed cache: stats and garbage collection.")
app.add_typer(cache_app, name="cache")

UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
DEFAULT_DAYS = 30.0


def parse_bytes(text: str) -> int:
    """``500M``, ``2G``, ``1048576`` -> bytes.

    Raises:
        typer.Exit: not a size (after printing one line saying so).
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise fail(f"--max-bytes {text!r} is not a size — e.g. 500M, 2G or 1048576")
    return int(float(match.group(1)) * UNITS[match.group(2)])


def human(size: int | None) -> str:
    """Bytes for people (``12.3 MiB``)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@cache_app.command("stats")
def stats_cmd(
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Entries, hits, bytes held, and what hits saved (bytes, USD and model time)."""
    with cli_store() as store:
        stats = store.cache.stats()
        stats.update(ledger_savings(store.journal))
        stats["store_artifacts"] = len(store.artifacts.all())
        stats["store_bytes"] = sum(r.size for r in store.artifacts.all())
    if as_json:
        echo_json(stats)
        return
    table = Table("cache", "value")
    table.add_row("entries", str(stats["entries"]))
    table.add_row("hits", str(stats["hits"]))
    table.add_row("bytes referenced", human(stats["bytes"]))
    table.add_row("bytes saved by hits", human(stats["bytes_saved"]))
    table.add_row("USD saved by hits (ledger)", f"${stats['usd_saved']:.4f}")
    table.add_row("model time saved (ledger)", f"{stats['seconds_saved']:.1f} s")
    table.add_row("artifacts in store", str(stats["store_artifacts"]))
    table.add_row("bytes in store", human(stats["store_bytes"]))
    console().print(table)


@cache_app.command("gc")
def gc_cmd(
    older_than: float | None = typer.Option(
        None, "--older-than", min=0, help="Days: drop what no newer run needed (default 30)."
    ),
    max_bytes: str | None = typer.Option(
        None, "--max-bytes", help="Then evict least recently needed until the store fits (2G)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; change nothing."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Drop cache entries and artifacts that no recent or unfinished run needs."""
    limit = parse_bytes(max_bytes) if max_bytes is not None else None
    days = older_than if older_than is not None or limit is not None else DEFAULT_DAYS
    with cli_store() as store:
        result = collect_garbage(
            store.journal,
            store.artifacts,
            store.cache,
            older_than_days=days,
            max_bytes=limit,
            dry_run=dry_run,
        )
    if as_json:
        echo_json({**result.to_dict(), "older_than_days": days, "max_bytes": limit})
        return
    verb = "would remove" if dry_run else "removed"
    console().print(
        f"{verb} {result.artifacts_removed} artifacts and {result.entries_removed} cache "
        f"entries, {human(result.bytes_freed)}; {human(result.bytes_left)} left"
    )
