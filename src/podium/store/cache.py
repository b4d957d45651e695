"""Cache figures and garbage collection, over the store interfaces (any implementation).

``podium cache stats`` reads :func:`summarise` through :meth:`CacheIndex.stats`;
``podium cache gc`` calls :func:`collect_garbage`, which keeps every artifact a recent or
unfinished run still refers to (and everything those were made from) and drops the rest.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from podium.store.base import ArtifactStore, CacheIndex, Journal
from podium.store.records import ArtifactRecord

#: Runs in these states may still need their artifacts whatever their age: they are running,
#: or stopped to be resumed (a cancelled run is one `podium resume` continues; a failed run's
#: are kept by age like a finished one's).
UNFINISHED = frozenset({"pending", "running", "interrupted", "cancelling", "cancelled"})
#: Runs that may be writing right now.
IN_FLIGHT = frozenset({"pending", "running", "cancelling"})
ALL_RUNS = 1_000_000


def summarise(
    rows: Iterable[tuple[tuple[str, ...], int]], artifacts: ArtifactStore | None
) -> dict[str, Any]:
    """Cache figures from ``(outputs, hits)`` per entry.

    Args:
        rows: each entry's output hashes and how many times it was hit.
        artifacts: where to read output sizes; without it bytes are reported as ``None``.
    """
    rows = list(rows)
    sizes: dict[str, int] = {}
    if artifacts is not None:
        sizes = {r.sha256: r.size for r in artifacts.all()}
    entry_bytes = [sum(sizes.get(sha, 0) for sha in outputs) for outputs, _ in rows]
    referenced = {sha for outputs, _ in rows for sha in outputs}
    return {
        "entries": len(rows),
        "hits": sum(hits for _, hits in rows),
        "artifacts": len(referenced),
        "bytes": sum(sizes.get(sha, 0) for sha in referenced) if artifacts else None,
        "bytes_saved": (
            sum(b * hits for b, (_, hits) in zip(entry_bytes, rows, strict=True))
            if artifacts
            else None
        ),
    }


def ledger_savings(journal: Journal) -> dict[str, Any]:
    """What cache hits saved, read from the ledger.

    A hit is worth what the attempt that first made the same outputs cost and how long it took.

    Args:
        journal: the ledger.
    """
    made: dict[tuple[str, ...], tuple[float, float]] = {}
    hits: list[tuple[str, ...]] = []
    for attempt in journal.attempts():
        if attempt.cache_hit:
            hits.append(attempt.outputs)
        elif attempt.status == "succeeded" and attempt.outputs:
            made.setdefault(attempt.outputs, (attempt.cost_usd, attempt.latency_s or 0.0))
    saved = [made[o] for o in hits if o in made]
    return {
        "ledger_hits": len(hits),
        "usd_saved": round(sum(cost for cost, _ in saved), 6),
        "seconds_saved": round(sum(secs for _, secs in saved), 3),
    }


@dataclass(frozen=True)
class GcResult:
    """What a garbage collection removed (or would remove, on a dry run)."""

    artifacts_removed: int
    entries_removed: int
    bytes_freed: int
    bytes_left: int
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "artifacts_removed": self.artifacts_removed,
            "entries_removed": self.entries_removed,
            "bytes_freed": self.bytes_freed,
            "bytes_left": self.bytes_left,
            "dry_run": self.dry_run,
        }


def _with_ancestors(roots: set[str], records: dict[str, ArtifactRecord]) -> set[str]:
    """``roots`` plus every artifact they were made from (lineage inputs), transitively."""
    keep = set(roots)
    todo = list(roots)
    while todo:
        record = records.get(todo.pop())
        for parent in (record.lineage.get("inputs") or []) if record else []:
            if isinstance(parent, str) and parent not in keep:
                keep.add(parent)
                todo.append(parent)
    return keep


def last_use_by_runs(
    journal: Journal, records: dict[str, ArtifactRecord]
) -> tuple[dict[str, float], set[str]]:
    """When a run last needed each artifact, and which artifacts unfinished runs need.

    A run needs what its steps and attempts produced and, transitively, what those were made
    from. A cache hit shows up as a later run producing the same hashes, so run times are the
    artifacts' use times.
    """
    used: dict[str, float] = {}
    pinned: set[str] = set()
    runs = journal.list_runs(limit=ALL_RUNS)
    # a run in flight stores an artifact a moment before its journal names it: keep
    # everything stored since the oldest such run began
    started = [r.created_at for r in runs if r.status in IN_FLIGHT]
    if started:
        pinned = {sha for sha, rec in records.items() if rec.created_at >= min(started)}
    for run in runs:
        outputs: set[str] = set()
        for step in journal.steps(run.run_id):
            outputs.update(step.outputs)
        for attempt in journal.attempts(run.run_id):
            outputs.update(attempt.outputs)
        needed = _with_ancestors(outputs, records)
        for sha in needed:
            used[sha] = max(used.get(sha, 0.0), run.created_at)
        if run.status in UNFINISHED:
            pinned |= needed
    return used, pinned


def collect_garbage(
    journal: Journal,
    artifacts: ArtifactStore,
    cache: CacheIndex,
    *,
    older_than_days: float | None = None,
    max_bytes: int | None = None,
    dry_run: bool = False,
    now: float | None = None,
) -> GcResult:
    """Drop artifacts and cache entries no recent run needs.

    Args:
        journal: the runs whose artifacts are protected.
        artifacts: the content-addressed store to shrink.
        cache: the cache index; entries pointing at a dropped artifact go too.
        older_than_days: drop what no run newer than this many days needed.
        max_bytes: then drop the artifacts runs needed least recently until the store fits;
            what unfinished runs need is never dropped.
        dry_run: report what would go, change nothing.
        now: the clock (for tests).
    """
    now = time.time() if now is None else now
    records = {r.sha256: r for r in artifacts.all()}
    used, pinned = last_use_by_runs(journal, records)
    last = {sha: used.get(sha, r.created_at) for sha, r in records.items()}
    doomed: set[str] = set()
    if older_than_days is not None:
        cutoff = now - older_than_days * 86400
        doomed = {sha for sha, when in last.items() if when < cutoff and sha not in pinned}
    if max_bytes is not None:
        size = sum(r.size for sha, r in records.items() if sha not in doomed)
        for sha in sorted(set(records) - doomed - pinned, key=lambda s: last[s]):
            if size <= max_bytes:
                break
            doomed.add(sha)
            size -= records[sha].size
    stale = [
        key
        for key, outputs, _ in cache.entries()
        if doomed.intersection(outputs) or not set(outputs) <= records.keys()
    ]
    freed = sum(records[sha].size for sha in doomed)
    if not dry_run:
        for key in stale:
            cache.remove(key)
        freed = sum(artifacts.delete(sha) for sha in doomed)
    left = sum(r.size for r in records.values()) - sum(records[sha].size for sha in doomed)
    return GcResult(len(doomed), len(stale), freed, left, dry_run)
