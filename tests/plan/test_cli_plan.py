"""``podium plan`` and ``podium models`` as a user runs them, over the test catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli import app
from podium.errors import SpecError
from podium.plan import NoModel
from podium.store.lockfile import write_lock
from tests.plan.conftest import KEYS

HERE = Path(__file__).parent
PROMO = HERE / "pipelines" / "promo.yaml"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose catalog holds the fake provider's free cards and a few remote cards
    (tests/plan/cli_cards); no remote keys set; tables 250 columns wide."""
    monkeypatch.setenv("PODIUM_ENABLE_FAKE", "1")
    monkeypatch.setenv("PODIUM_CATALOG_PATH", str(HERE / "cli_cards"))
    monkeypatch.setenv("COLUMNS", "250")
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    return CliRunner()


def test_plan_json_chooses_the_best_printed_score(cli: CliRunner) -> None:
    for policy in ("cheapest", "best"):
        result = cli.invoke(app, ["plan", str(PROMO), "--json", "--policy", policy])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["pipeline"] == "promo" and doc["policy"] == policy
        for step in doc["steps"]:
            scored = [c for c in step["candidates"] if "score" in c]
            assert step["chosen"] == max(scored, key=lambda c: c["score"])["model"]
        flux = _candidate(doc, "hero", "fal/test-image@1")
        assert flux["excluded"] == {"code": "unavailable", "reason": "FAL_KEY is not set"}
        assert doc["total"]["critical_path_s"] > 0


def test_plan_with_a_key_set_and_cheapest_vs_best(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "test-key")
    cheap = json.loads(
        cli.invoke(app, ["plan", str(PROMO), "--json", "--policy", "cheapest"]).stdout
    )
    best = json.loads(cli.invoke(app, ["plan", str(PROMO), "--json", "--policy", "best"]).stdout)
    assert _step(cheap, "hero")["chosen"] != _step(best, "hero")["chosen"]
    assert _step(best, "hero")["chosen"] == "fal/test-image@1"
    assert best["total"]["cost_usd"] > cheap["total"]["cost_usd"]


def test_plan_table_shows_choice_fallbacks_reasons_and_totals(cli: CliRunner) -> None:
    result = cli.invoke(app, ["plan", str(PROMO), "--policy", "cost=1,quality=1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "policy weights(cost=1,quality=1)" in out
    assert "hero (text-to-image" in out and "→" in out
    assert "unavailable: FAL_KEY is not set" in out
    assert "total: $" in out and "critical path" in out


def test_plan_spec_problems_exit_2_one_per_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\nsteps:\n  - id: a\n    task: text-to-imag\n")
    env = {**os.environ, "PODIUM_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", "from podium.cli import main; main()", "plan", str(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{spec}:4:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_policy_is_one_clear_error(cli: CliRunner) -> None:
    result = cli.invoke(app, ["plan", str(PROMO), "--policy", "cheap"])
    assert result.exit_code != 0
    assert "unknown policy 'cheap'" in str(result.exception)


def test_models_lists_availability_and_why(cli: CliRunner) -> None:
    result = cli.invoke(app, ["models", "--json", "--task", "text-to-image"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["fal/test-image"]["why"] == "FAL_KEY is not set"
    assert rows["fal/test-image"]["available"] is False
    assert any(r["available"] for r in rows.values())  # the fake provider's free cards
    assert all("text-to-image" in r["tasks"] for r in rows.values())
    fal = json.loads(cli.invoke(app, ["models", "--json", "--provider", "fal"]).stdout)
    assert {"fal/test-image", "fal/test-video"} <= {r["id"] for r in fal}
    assert all(r["id"].startswith("fal/") for r in fal)
    table = cli.invoke(app, ["models", "--provider", "acme"]).stdout
    assert "acme/test-speech" in table and "provider 'acme' is not installed" in table
    nope = cli.invoke(app, ["models", "--provider", "nope"])
    assert nope.exit_code == 2 and "no provider 'nope' in the catalog" in nope.output


def test_models_show_renders_the_prompt(cli: CliRunner) -> None:
    result = cli.invoke(app, ["models", "show", "fal/test-image", "--json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert card["id"] == "fal/test-image" and card["credentials"] == ["FAL_KEY"]
    assert card["prompt_example"]["rendered"].startswith("<subject>")
    text = cli.invoke(app, ["models", "show", "fal/test-image"]).stdout
    assert "becomes this model's prompt text" in text
    missing = cli.invoke(app, ["models", "show", "fal/test-imag"])
    assert missing.exit_code != 0
    assert "did you mean fal/test-image" in str(missing.exception)


def _plan_json(cli: CliRunner, *args: str) -> dict[str, Any]:
    result = cli.invoke(app, ["plan", str(PROMO), "--json", *args])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def _step(doc: dict[str, Any], step_id: str) -> dict[str, Any]:
    steps = doc["steps"]
    assert isinstance(steps, list)
    return next(s for s in steps if s["id"] == step_id)


def _candidate(doc: dict[str, Any], step_id: str, model: str) -> dict[str, Any]:
    candidates = _step(doc, step_id)["candidates"]
    assert isinstance(candidates, list)
    return next(c for c in candidates if c["model"] == model)


def test_plan_honours_the_lock_file_beside_the_spec(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "promo.yaml"
    spec.write_text(PROMO.read_text())
    free = _plan_json(cli, "--policy", "cheapest")
    hero = _step(free, "hero")
    scored = [c["model"] for c in hero["candidates"] if "score" in c]
    other = next(m for m in scored if m != hero["chosen"])
    write_lock(spec, "promo", "x", {"hero": other})
    result = cli.invoke(app, ["plan", str(spec), "--json", "--policy", "cheapest"])
    assert result.exit_code == 0, result.output
    locked = _step(json.loads(result.stdout), "hero")
    assert locked["chosen"] == other and locked["fallbacks"] == []


def test_plan_when_no_model_can_run_a_step(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "pinned.yaml"
    text = PROMO.read_text().replace(
        'params: {aspect_ratio: "16:9"}', "route: {pin: fal/test-image}"
    )
    spec.write_text(text)
    result = cli.invoke(app, ["plan", str(spec)])
    assert result.exit_code == 1
    assert "hero: no eligible model" in result.stdout
    assert "FAL_KEY is not set" in result.stdout  # the table says why, per candidate
    assert isinstance(result.exception, NoModel)
    assert result.exception.one_line().startswith("step hero: no model can run this step")


def test_plan_budget_excludes_what_does_not_fit(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "test-key")
    doc = _plan_json(cli, "--policy", "best", "--budget", "0.01")
    flux = _candidate(doc, "hero", "fal/test-image@1")
    assert flux["excluded"]["code"] == "budget"
    assert doc["total"]["cost_usd"] <= 0.01


def test_strict_turns_prompt_warnings_into_errors(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "vague.yaml"
    spec.write_text(
        "name: vague\nsteps:\n  - id: hero\n    task: text-to-image\n    prompt: a can\n"
    )
    relaxed = cli.invoke(app, ["plan", str(spec), "--json"])
    assert relaxed.exit_code == 0, relaxed.output
    assert json.loads(relaxed.stdout)["steps"][0]["id"] == "hero"
    assert "warning" in relaxed.stderr
    strict = cli.invoke(app, ["plan", str(spec), "--json", "--strict"])
    assert isinstance(strict.exception, SpecError)
    assert strict.stdout == ""
    assert all(p.severity == "error" for p in strict.exception.problems)
    assert {p.line for p in strict.exception.problems} == {3}  # the step, in the file


def test_set_overrides_an_input(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "test-key")
    spec = tmp_path / "clip.yaml"
    spec.write_text(
        "name: clip\ninputs:\n  secs: {type: float, default: 6}\nsteps:\n"
        "  - id: clip\n    task: text-to-video\n"
        "    prompt: {subject: a can, camera: orbit, action: spins, duration_s: '${inputs.secs}'}\n"
    )
    base = json.loads(cli.invoke(app, ["plan", str(spec), "--json"]).stdout)
    assert "score" in _candidate(base, "clip", "fal/test-video@1")
    result = cli.invoke(app, ["plan", str(spec), "--json", "--set", "secs=12"])
    assert result.exit_code == 0, result.output
    video = _candidate(json.loads(result.stdout), "clip", "fal/test-video@1")
    assert video["excluded"] == {
        "code": "limits",
        "reason": "duration 12 s is over its 10 s maximum",
    }
    bad = cli.invoke(app, ["plan", str(spec), "--set", "secs"])
    assert bad.exit_code != 0
    assert "is not key=value" in str(bad.exception)
