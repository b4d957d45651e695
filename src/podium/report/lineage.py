"""Lineage: the tree of what made an artifact, back to the pipeline's inputs.

Each artifact's record says which step, model@version, seed and params made it and which
artifacts went in (``lineage.inputs``); following those links gives the tree ``podium lineage``
prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from podium.store.base import ArtifactStore

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_DEPTH = 64


def _input_hashes(inputs: Any) -> Iterable[tuple[str | None, Any]]:
    """(slot, value) pairs from a lineage's ``inputs`` (a list, or slot -> value / list)."""
    if isinstance(inputs, dict):
        for slot, value in inputs.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                yield str(slot), item
    elif isinstance(inputs, list | tuple):
        for item in inputs:
            yield None, item


def lineage_tree(sha256: str, artifacts: ArtifactStore) -> dict[str, Any]:
    """The tree of what made ``sha256`` (a prefix of 8+ hex digits is enough).

    Each node: ``{sha256, type, input, step, key, model, run_id, seed, params, metadata,
    inputs: [node ...]}`` (``input`` names a pipeline input the artifact came in as);
    an input that is no artifact (a literal value) is ``{value}``; an artifact no longer in the
    store is ``{sha256, missing: true}``; a node reached twice is ``{sha256, seen: true}``.

    Raises:
        KeyError: no such artifact (or the prefix is ambiguous).
    """
    root = artifacts.get(sha256)
    seen: set[str] = set()

    def node(sha: str, slot: str | None, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"sha256": sha}
        if slot:
            out["slot"] = slot
        if sha in seen or depth > MAX_DEPTH:
            out["seen"] = True
            return out
        seen.add(sha)
        try:
            record = artifacts.get(sha)
        except KeyError:
            out["missing"] = True
            return out
        lin = record.lineage
        model = lin.get("model")
        if model and lin.get("version") and "@" not in str(model):
            model = f"{model}@{lin['version']}"
        out.update(
            type=record.type,
            input=lin.get("input"),
            step=lin.get("step"),
            key=lin.get("key"),
            model=model,
            run_id=lin.get("run_id"),
            seed=lin.get("seed"),
            params=lin.get("params") or {},
            metadata={k: v for k, v in record.metadata.items() if k != "conformance"},
        )
        children = []
        for child_slot, value in _input_hashes(lin.get("inputs")):
            if isinstance(value, str) and SHA256.match(value):
                children.append(node(value, child_slot, depth + 1))
            else:
                children.append(
                    {"slot": child_slot, "value": value} if child_slot else {"value": value}
                )
        out["inputs"] = children
        return out

    return node(root.sha256, None, 0)


def describe(node: dict[str, Any]) -> str:
    """One line for a lineage node, as ``podium lineage`` prints it."""
    slot = f"{node['slot']}: " if node.get("slot") else ""
    if "value" in node:
        return f"{slot}input {node['value']!r}"
    short = node["sha256"][:12]
    if node.get("missing"):
        return f"{slot}{short} (no longer in the store)"
    if node.get("seen"):
        return f"{slot}{short} (shown above)"
    if not node.get("step"):
        name = f" '{node['input']}'" if node.get("input") else ""
        return f"{slot}{short} {node.get('type', '')} — pipeline input{name}"
    bits = [f"{slot}{short} {node['type']}", f"step {node.get('key') or node['step']}"]
    if node.get("model"):
        bits.append(str(node["model"]))
    if node.get("seed") is not None:
        bits.append(f"seed {node['seed']}")
    if node.get("params"):
        bits.append(", ".join(f"{k}={v}" for k, v in sorted(node["params"].items())))
    if node.get("run_id"):
        bits.append(f"run {node['run_id']}")
    return " · ".join(bits)
