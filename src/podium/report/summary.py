"""Run summaries: ``summary.json`` and a self-contained ``summary.html`` in the output folder.

:func:`run_document` gathers everything Podium remembers about a run from the journal and the
artifact store — steps with their chosen models, every attempt with its outcome, error code,
reason, timing and cost, cache hits, the router's decisions (candidates with scores or exclusion
reasons), artifacts with metadata, conformance results — into one JSON-ready document.
``podium show RUN --json`` prints the same document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from podium.store.artifacts import sha256_file
from podium.store.base import ArtifactStore, Journal
from podium.store.records import ArtifactRecord, AttemptRecord, StepRecord

SUMMARY_FILES = ("summary.json", "summary.html")
SCHEMA_VERSION = 1


def _duration(started: float | None, finished: float | None) -> float | None:
    if started is None or finished is None:
        return None
    return round(max(0.0, finished - started), 4)


def _attempt(a: AttemptRecord) -> dict[str, Any]:
    return {
        "duration_s": _duration(a.started_at, a.finished_at),
        "attempt_id": a.attempt_id,
        "model": a.model,
        "provider": a.provider,
        "status": a.status,
        "error_code": a.error_code,
        "error": a.error,
        "started_at": a.started_at,
        "finished_at": a.finished_at,
        "latency_s": a.latency_s,
        "cost_usd": a.cost_usd,
        "cache_hit": a.cache_hit,
        "hedge": a.hedge,
        "request_id": a.request_id,
        "outputs": list(a.outputs),
    }


def output_files(out_dir: Path | None, records: Mapping[str, ArtifactRecord]) -> dict[str, str]:
    """sha256 -> file name in ``out_dir`` for every artifact placed there.

    Only files whose size matches an artifact are hashed, so a folder of large videos costs
    one hash per output, not more.
    """
    if out_dir is None or not out_dir.is_dir():
        return {}
    sizes = {r.size for r in records.values()}
    found: dict[str, str] = {}
    for path in sorted(out_dir.rglob("*")):
        if path.name in SUMMARY_FILES or not path.is_file() or path.stat().st_size not in sizes:
            continue
        sha = sha256_file(path)
        if sha in records:
            found.setdefault(sha, os.path.relpath(path, out_dir))
    return found


def _decisions(plan: Mapping[str, Any] | None, steps: list[StepRecord]) -> dict[str, Any]:
    """Step id -> its decision: the one the step ran under, else the plan's."""
    found: dict[str, Any] = {}
    for entry in (plan or {}).get("steps") or []:
        if isinstance(entry, Mapping) and "id" in entry:
            found[str(entry["id"])] = dict(entry)
    ran: set[str] = set()
    for step in steps:
        # a step may be decided again as it runs (a breaker opened since planning)
        if step.decision and step.step_id not in ran:
            found[step.step_id] = dict(step.decision)
            ran.add(step.step_id)
    return found


def _output(
    sha: str, records: Mapping[str, ArtifactRecord], files: Mapping[str, str]
) -> dict[str, Any]:
    record = records.get(sha)
    return {"sha256": sha, "file": files.get(sha), "type": record.type if record else None}


def _step_doc(
    step: StepRecord,
    attempts: list[AttemptRecord],
    records: Mapping[str, ArtifactRecord],
    files: Mapping[str, str],
    decisions: Mapping[str, Any],
) -> dict[str, Any]:
    # a variant's record may carry no times of its own: its attempts say when it ran
    started = step.started_at
    if started is None and attempts:
        started = min(a.started_at for a in attempts)
    finished = step.finished_at
    if finished is None and step.status not in ("pending", "running"):
        ends = [a.finished_at for a in attempts if a.finished_at is not None]
        finished = max(ends) if ends else None
    return {
        "key": step.key,
        "step_id": step.step_id,
        "status": step.status,
        "model": step.model,
        "cost_usd": step.cost_usd,
        "started_at": started,
        "finished_at": finished,
        "duration_s": _duration(started, finished),
        "error_code": step.error_code,
        "error": step.error,
        "cache_key": step.cache_key,
        "cache_hit": any(a.cache_hit for a in attempts),
        "outputs": [_output(sha, records, files) for sha in step.outputs],
        "attempts": [_attempt(a) for a in attempts],
        "decision": decisions.get(step.step_id),
    }


def _totals(
    wall_s: float | None, steps: list[StepRecord], attempts: list[AttemptRecord]
) -> dict[str, Any]:
    return {
        "cost_usd": round(sum(a.cost_usd for a in attempts), 6),
        "wall_s": wall_s,
        "steps": len(steps),
        "succeeded": sum(s.status == "succeeded" for s in steps),
        "failed": sum(s.status == "failed" for s in steps),
        "attempts": len(attempts),
        "failed_attempts": sum(a.status == "failed" for a in attempts),
        "cache_hits": sum(a.cache_hit for a in attempts),
    }


def _artifact(record: ArtifactRecord, files: Mapping[str, str]) -> dict[str, Any]:
    out = record.to_dict()
    out["file"] = files.get(record.sha256)
    return out


def run_document(
    run_id: str,
    journal: Journal,
    artifacts: ArtifactStore,
    out_dir: Path | None = None,
    plan_json: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything about one run as a JSON-ready document.

    Args:
        run_id: the run (a unique prefix is enough).
        journal: where the run, its steps and attempts are.
        artifacts: where its outputs' records are.
        out_dir: the run's output folder, to link outputs (default: the run's own).
        plan_json: the plan, when the run record does not hold it.

    Raises:
        KeyError: no such run.
    """
    run = journal.get_run(run_id)
    steps = journal.steps(run.run_id)
    attempts = journal.attempts(run.run_id)
    out_dir = out_dir or (Path(run.out_dir) if run.out_dir else None)
    shas = {sha for s in steps for sha in s.outputs} | {sha for a in attempts for sha in a.outputs}
    records: dict[str, ArtifactRecord] = {}
    for sha in sorted(shas):
        try:
            records[sha] = artifacts.get(sha)
        except KeyError:
            continue  # dropped by gc: the step still says what it made
    files = output_files(out_dir, records)
    decisions = _decisions(plan_json or run.plan, steps)
    step_docs = [
        _step_doc(step, [a for a in attempts if a.step_key == step.key], records, files, decisions)
        for step in steps
    ]
    conformance = [
        {"sha256": sha, "file": files.get(sha), "step": rec.lineage.get("step"), **conf}
        for sha, rec in records.items()
        if isinstance(conf := rec.metadata.get("conformance"), Mapping)
    ]
    run_doc = run.to_dict()
    run_doc.pop("plan", None)
    return {
        "schema": SCHEMA_VERSION,
        "run": run_doc,
        "totals": _totals(run.wall_s, steps, attempts),
        "steps": step_docs,
        "decisions": decisions,
        "artifacts": [_artifact(records[sha], files) for sha in sorted(records)],
        "conformance": conformance,
        # the plan's steps are the decisions above; keep its policy, totals and seed
        "plan": {k: v for k, v in (plan_json or run.plan or {}).items() if k != "steps"},
    }


def write_summary(
    run_id: str,
    journal: Journal,
    artifacts: ArtifactStore,
    out_dir: Path,
    plan_json: Mapping[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write ``summary.json`` and ``summary.html`` into ``out_dir``; return their paths.

    Args:
        run_id: the run.
        journal: where the run, its steps and attempts are.
        artifacts: where its outputs are (image outputs become thumbnails in the HTML).
        out_dir: the run's output folder.
        plan_json: the plan's document, when the run record does not hold it.
    """
    from podium.report.html import render_html

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = run_document(run_id, journal, artifacts, out_dir, plan_json)
    json_path = out_dir / "summary.json"
    html_path = out_dir / "summary.html"
    _write_text(json_path, json.dumps(doc, indent=2, default=str) + "\n")
    _write_text(html_path, render_html(doc, artifacts))
    return json_path, html_path


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
