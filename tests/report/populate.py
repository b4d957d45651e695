"""Populate a store through its interfaces with runs that look like real ones.

A run of the ``promo`` pipeline: a ``script`` text step, two ``hero`` image variants (the first
fails once with a transient error, then falls back), and a ``cut`` whose video carries a
conformance report; a second run re-uses the script from the cache and changes the hero model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from podium.store.open import Store
from podium.store.records import ArtifactRecord, AttemptRecord, RunRecord, StepRecord

FLUX = "fal/flux-dev@2024-08"
STUDIO = "local/studio@1.0.0"
TEMPLATE = "local/template@1"
CUT = "local/cut@1"


def decision(step_id: str, task: str, chosen: str, others: list[str]) -> dict[str, Any]:
    """A decision as the router records it (``Decision.to_dict()``'s shape)."""
    candidates: list[dict[str, Any]] = [
        {
            "model": chosen,
            "score": 0.91,
            "cost_usd": 0.03,
            "latency_p95_s": 4.0,
            "quality": 0.9,
            "reliability": 0.97,
        }
    ]
    candidates += [
        {"model": m, "score": 0.55, "cost_usd": 0.0, "latency_p95_s": 2.0, "quality": 0.6}
        for m in others
    ]
    candidates.append(
        {
            "model": "openai/gpt-image@1",
            "excluded": {"code": "unavailable", "reason": "OPENAI_API_KEY is not set"},
        }
    )
    return {
        "id": step_id,
        "task": task,
        "chosen": chosen,
        "fallbacks": others,
        "candidates": candidates,
        "estimate": {"cost_usd": 0.03, "latency_s": 4.0},
        "policy": "balanced",
    }


@dataclass
class Populated:
    """What :func:`populate` wrote."""

    run_ids: list[str]
    out_dirs: list[Path]
    artifacts: dict[str, ArtifactRecord] = field(default_factory=dict)


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (320, 180), colour).save(path)
    return path


class _Writer:
    def __init__(self, store: Store, run_id: str, t0: float) -> None:
        self.store, self.run_id, self.t = store, run_id, t0
        self.n = 0

    def attempt(self, key: str, model: str, latency: float, **fields: Any) -> AttemptRecord:
        self.n += 1
        start, self.t = self.t, self.t + latency
        record = AttemptRecord(
            attempt_id=f"{self.run_id}-a{self.n}",
            run_id=self.run_id,
            step_key=key,
            model=model,
            provider=model.split("/")[0],
            idempotency_key=f"{self.run_id}-{key}-{self.n}",
            status=fields.pop("status", "succeeded"),
            started_at=start,
            finished_at=self.t,
            latency_s=latency,
            **fields,
        )
        self.store.journal.put_attempt(record)
        return record

    def step(self, key: str, model: str, start: float, outputs: tuple[str, ...], **kw: Any) -> None:
        self.store.journal.put_step(
            StepRecord(
                run_id=self.run_id,
                key=key,
                step_id=key.split("[")[0],
                status=kw.pop("status", "succeeded"),
                model=model,
                outputs=outputs,
                started_at=start,
                finished_at=self.t,
                **kw,
            )
        )


def _put(
    store: Store, path: Path, type_: str, run_id: str, step: str, model: str, **extra: Any
) -> ArtifactRecord:
    name, version = model.split("@")
    lineage = {
        "run_id": run_id,
        "step": step,
        "model": name,
        "version": version,
        "inputs": extra.pop("inputs", []),
        "seed": extra.pop("seed", 0),
        "params": extra.pop("params", {}),
    }
    return store.artifacts.put(path, type_, metadata=extra.pop("metadata", {}), lineage=lineage)


def populate(store: Store, root: Path) -> Populated:
    """Write two runs of ``promo`` (their output folders under ``root``); return what was made."""
    t0 = time.time() - 3600
    made = Populated(run_ids=["run-aaaa1111", "run-bbbb2222"], out_dirs=[])
    for n, run_id in enumerate(made.run_ids):
        out = root / run_id
        out.mkdir(parents=True)
        made.out_dirs.append(out)
        hero_model = FLUX if n == 0 else STUDIO
        plan = {
            "pipeline": "promo",
            "policy": "balanced",
            "steps": [
                decision("script", "text", TEMPLATE, []),
                {
                    **decision("hero", "text-to-image", hero_model, [STUDIO if n == 0 else FLUX]),
                    "select": decision("hero.select", "score", "local/quality-score@1", []),
                },
                decision("cut", "compose-video", CUT, []),
            ],
        }
        start = t0 + n * 600
        store.journal.create_run(
            RunRecord(
                run_id,
                "promo",
                "promo.yaml",
                f"{n:064d}",
                "running",
                start,
                start,
                out_dir=str(out),
                policy="balanced",
                budget_usd=1.0,
                plan=plan,
                inputs={"product": "mug"},
            )
        )
        w = _Writer(store, run_id, start)
        script = out / "script.txt"
        script.write_text("Meet the mug.\n")
        s0 = w.t
        cached = n == 1
        art = _put(store, script, "text", made.run_ids[0], "script", TEMPLATE)
        w.attempt(
            "script",
            TEMPLATE,
            0.0 if cached else 0.05,
            cache_hit=cached,
            cost_usd=0.0 if cached else 0.01,
            outputs=(art.sha256,),
        )
        made.artifacts["script"] = art
        w.step(
            "script",
            TEMPLATE,
            s0,
            (art.sha256,),
            cache_key="c" * 64,
            cost_usd=0.0 if cached else 0.01,
        )
        heroes = []
        for i in range(2):
            key = f"hero[{i}]"
            h0 = w.t
            if i == 0 and n == 0:
                w.attempt(
                    key,
                    FLUX,
                    0.4,
                    status="failed",
                    error_code="transient",
                    error="HTTP 503 from fal",
                    cost_usd=0.0,
                )
            path = _png(out / f"hero-{i}.png", (200, 40 * i + 40 * n, 90))
            art = _put(
                store,
                path,
                "image",
                run_id,
                "hero",
                hero_model,
                inputs=[made.artifacts["script"].sha256],
                seed=i,
                params={"steps": 28 + n},
                metadata={"width": 320, "height": 180},
            )
            w.attempt(key, hero_model, 1.2, cost_usd=0.03 if n == 0 else 0.0, outputs=(art.sha256,))
            w.step(key, hero_model, h0, (art.sha256,), cost_usd=0.03 if n == 0 else 0.0)
            made.artifacts[f"hero{n}-{i}"] = art
            heroes.append(art.sha256)
        c0 = w.t
        video = out / "cut.mp4"
        video.write_bytes(b"\0\0\0\x18ftypmp42" + bytes([n]) * 64)
        conformance = {
            "passed": n == 0,
            "checks": [
                {"name": "duration_s", "passed": True, "measured": 18.0, "expected": "18 ± 0.04"},
                {
                    "name": "loudness_lufs",
                    "passed": n == 0,
                    "measured": -14.1 if n == 0 else -9.0,
                    "expected": "-14 ± 1",
                },
            ],
        }
        art = _put(
            store,
            video,
            "video",
            run_id,
            "cut",
            CUT,
            inputs=heroes,
            metadata={"duration_s": 18.0, "conformance": conformance},
        )
        w.attempt("cut", CUT, 2.0, outputs=(art.sha256,))
        w.step("cut", CUT, c0, (art.sha256,))
        made.artifacts[f"cut{n}"] = art
        cost = 0.01 + 0.03 * 2 if n == 0 else 0.0
        store.journal.update_run(run_id, status="succeeded", cost_usd=cost, wall_s=w.t - start)
    return made
