"""``select: {by: quality, keep: K}``: score a step's variants and keep the best K, best first.

The scorer is the step decision's own ``scorer`` decision (task ``score``, input slot
``items``). Its JSON output is ``{"scores": [{"index", "quality", ...}], "by": "quality"}`` in
input order. A sheet that does not score every item is :class:`BadOutput`, so the next scorer
in the chain gets its turn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from podium.errors import BadOutput
from podium.store.records import ArtifactRecord


def read_scores(record: ArtifactRecord, text: str, count: int, by: str = "quality") -> list[float]:
    """The score of each of ``count`` items from a scorer's JSON sheet.

    Raises:
        BadOutput: the sheet is malformed or misses an item.
    """
    try:
        sheet = json.loads(text)
        rows = sheet["scores"]
        scores: dict[int, float] = {int(r["index"]): float(r[by]) for r in rows}
    except (ValueError, KeyError, TypeError) as exc:
        raise BadOutput(
            f"score sheet {record.sha256[:12]} is malformed: {exc}",
            hint="the scorer must return {'scores': [{'index', 'quality'}...]}",
        ) from None
    missing = [i for i in range(count) if i not in scores]
    if missing:
        raise BadOutput(f"score sheet {record.sha256[:12]} misses items {missing}")
    return [scores[i] for i in range(count)]


def best(scores: Sequence[float], keep: int) -> list[int]:
    """Indexes of the ``keep`` best scores, best first (ties keep variant order)."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return order[: max(1, keep)]
