"""`podium plan` on the remote example: with keys, remote models are candidates and the policy
picks; without, each is excluded naming the env var to set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).parents[2] / "examples" / "remote-promo.yaml"
ENV_OF = {
    "fal": "FAL_KEY",
    "replicate": "REPLICATE_API_TOKEN",
    "openai": "OPENAI_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
}


def plan(podium_home: Path, keys: dict[str, str], *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_OF.values()}
    env.update(keys, PODIUM_HOME=str(podium_home))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from podium.cli import main; main()",
            "plan",
            str(EXAMPLE),
            "--json",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


def remote(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in candidates if c["model"].split("/")[0] in ENV_OF]


def test_without_keys_remote_models_are_excluded_naming_the_env_var(podium_home: Path) -> None:
    doc = plan(podium_home, {})
    seen = 0
    for step in doc["steps"]:
        assert step["chosen"].split("/")[0] not in ENV_OF
        for cand in remote(step["candidates"]):
            env = ENV_OF[cand["model"].split("/")[0]]
            assert cand["excluded"]["reason"] == f"{env} is not set"
            seen += 1
    assert seen >= 8  # image, video, speech and music models of four providers


def test_with_keys_remote_models_compete_and_the_policy_picks(podium_home: Path) -> None:
    keys = {env: "test-key" for env in ENV_OF.values()}
    best = plan(podium_home, keys, "--policy", "best")
    steps = {s["id"]: s for s in best["steps"]}
    for step_id in ("hero", "shot", "voice", "music"):
        step = steps[step_id]
        scored = [c for c in step["candidates"] if "score" in c]
        assert remote(scored), f"{step_id}: no remote candidate was scored"
        top = max(scored, key=lambda c: c["score"])
        assert step["chosen"] == top["model"]  # the policy's best score wins
    assert steps["hero"]["chosen"].split("/")[0] in ENV_OF  # best quality is remote here
    cheapest = plan(podium_home, keys, "--policy", "cheapest")
    assert cheapest["total"]["cost_usd"] < best["total"]["cost_usd"]
    hero = {s["id"]: s for s in cheapest["steps"]}["hero"]
    assert any(f.split("/")[0] in ENV_OF for f in hero["fallbacks"])  # remote stands by
