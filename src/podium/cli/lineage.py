"""``podium lineage ARTIFACT``: the tree of what made an artifact, back to the pipeline inputs."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.tree import Tree

from podium.cli._store import cli_store, console, echo_json, unknown_artifact
from podium.cli.app import app
from podium.report.lineage import describe, lineage_tree


def _grow(tree: Tree, node: dict[str, Any]) -> None:
    for child in node.get("inputs") or []:
        _grow(tree.add(escape(describe(child))), child)


@app.command("lineage")
def lineage_cmd(
    sha: str = typer.Argument(..., metavar="ARTIFACT", help="sha256 (8+ hex digits suffice)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document on stdout."),
) -> None:
    """Show what made an artifact: step, model@version, seed, params and inputs, recursively."""
    with cli_store() as store:
        try:
            tree = lineage_tree(sha, store.artifacts)
        except KeyError as exc:
            raise unknown_artifact(sha, exc) from None
    if as_json:
        echo_json(tree)
        return
    root = Tree(f"[bold]{escape(describe(tree))}[/bold]")
    _grow(root, tree)
    console().print(root)
