"""The store's commands as a user runs them, on an empty and on a populated store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.cli import app
from podium.settings import Settings
from podium.store.lockfile import read_lock
from podium.store.open import open_store
from podium.store.records import BreakerState
from tests.report.populate import FLUX, STUDIO, Populated, populate

LOCKME = Path(__file__).parent / "pipelines" / "lockme.yaml"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner with wide tables."""
    monkeypatch.setenv("COLUMNS", "250")
    return CliRunner()


@pytest.fixture
def populated(settings: Settings, tmp_path: Path) -> Iterator[Populated]:
    """Two runs of ``promo`` and two breakers in the settings' SQLite store."""
    store = open_store(settings)
    made = populate(store, tmp_path / "out")
    store.cache.put("k" * 64, [made.artifacts["script"].sha256], "local/template@1")
    assert store.cache.get("k" * 64) is not None
    store.state.put_breaker(BreakerState(FLUX, "open", 5, time.time() + 600, (False,) * 5))
    store.state.put_breaker(BreakerState("provider:fal", "closed", 0, None, (True, False)))
    store.close()
    yield made


def _json(result: Result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    return lines[0]


def test_every_command_on_an_empty_store(cli: CliRunner) -> None:
    assert _json(cli.invoke(app, ["runs", "--json"])) == []
    assert "No runs" in cli.invoke(app, ["runs"]).stdout
    assert _json(cli.invoke(app, ["health", "--json"])) == {"breakers": [], "open": 0}
    assert "everything is closed" in cli.invoke(app, ["health"]).stdout
    stats = _json(cli.invoke(app, ["cache", "stats", "--json"]))
    assert isinstance(stats, dict) and (stats["entries"], stats["hits"]) == (0, 0)
    gc = _json(cli.invoke(app, ["cache", "gc", "--json"]))
    assert isinstance(gc, dict) and gc["artifacts_removed"] == 0
    assert "no run 'abc'" in _error(cli.invoke(app, ["show", "abc"]))
    assert "see `podium runs`" in _error(cli.invoke(app, ["show", "abc", "--json"]))
    assert "no run 'a1'" in _error(cli.invoke(app, ["diff", "a1", "b2"]))
    assert "no artifact 'deadbeef'" in _error(cli.invoke(app, ["lineage", "deadbeef"]))


def test_runs_and_show(cli: CliRunner, populated: Populated) -> None:
    runs = _json(cli.invoke(app, ["runs", "--json", "--pipeline", "promo"]))
    assert isinstance(runs, list)
    assert [r["run_id"] for r in runs] == list(reversed(populated.run_ids))
    assert _json(cli.invoke(app, ["runs", "--json", "--pipeline", "other"])) == []
    table = cli.invoke(app, ["runs"]).stdout
    assert populated.run_ids[0] in table and "succeeded" in table and "$0.0700" in table

    doc = _json(cli.invoke(app, ["show", populated.run_ids[0][:8], "--json"]))
    assert isinstance(doc, dict) and doc["run"]["run_id"] == populated.run_ids[0]
    assert [s["model"] for s in doc["steps"]][1] == FLUX
    text = cli.invoke(app, ["show", populated.run_ids[0]]).stdout
    assert "transient: HTTP 503 from fal" in text  # the failed attempt and its reason
    assert f"{FLUX}, then {STUDIO}" in text  # the decision's chain
    assert "OPENAI_API_KEY is not set" in text and "hero-0.png" in text
    assert "ambiguous" in _error(cli.invoke(app, ["show", "run-"]))


def test_lineage_and_diff(cli: CliRunner, populated: Populated) -> None:
    cut = populated.artifacts["cut0"].sha256
    tree = _json(cli.invoke(app, ["lineage", cut[:12], "--json"]))
    assert isinstance(tree, dict) and tree["sha256"] == cut
    assert tree["inputs"][0]["inputs"][0]["step"] == "script"
    text = cli.invoke(app, ["lineage", cut]).stdout
    assert "step cut" in text and "step hero" in text and "step script" in text
    assert "too short" in _error(cli.invoke(app, ["lineage", cut[:4]]))

    a, b = populated.run_ids
    doc = _json(cli.invoke(app, ["diff", a, b, "--json"]))
    assert isinstance(doc, dict) and doc["counts"]["changed"] == 3
    text = cli.invoke(app, ["diff", a, b]).stdout
    assert f"{FLUX} → {STUDIO}" in text and "steps=28 → steps=29" in text
    assert "script" not in text.split("\n", 1)[1]  # unchanged steps only with --all
    assert "script" in cli.invoke(app, ["diff", a, b, "--all"]).stdout


def test_health_cache_stats_and_gc(cli: CliRunner, populated: Populated) -> None:
    health = _json(cli.invoke(app, ["health", "--json"]))
    assert isinstance(health, dict) and health["open"] == 1
    states = {b["key"]: b for b in health["breakers"]}
    assert states[FLUX]["state"] == "open" and states[FLUX]["failures"] == 5
    assert states["provider:fal"]["recent_error_rate"] == 0.5
    assert FLUX in cli.invoke(app, ["health"]).stdout

    stats = _json(cli.invoke(app, ["cache", "stats", "--json"]))
    assert isinstance(stats, dict)
    assert (stats["entries"], stats["hits"]) == (1, 1)
    assert stats["bytes_saved"] == populated.artifacts["script"].size
    # the ledger: the second run's script was a hit, worth what the first run's call cost
    assert (stats["ledger_hits"], stats["usd_saved"], stats["seconds_saved"]) == (1, 0.01, 0.05)
    assert "bytes saved" in cli.invoke(app, ["cache", "stats"]).stdout

    dry = _json(cli.invoke(app, ["cache", "gc", "--max-bytes", "0", "--dry-run", "--json"]))
    assert isinstance(dry, dict) and dry["artifacts_removed"] == len(populated.artifacts) - 1
    assert dry["bytes_left"] == 0
    assert "1x" in _error(cli.invoke(app, ["cache", "gc", "--max-bytes", "1x"]))
    # every run is recent: nothing is old enough to go
    assert "removed 0 artifacts" in cli.invoke(app, ["cache", "gc", "--older-than", "1"]).stdout
    gone = _json(cli.invoke(app, ["cache", "gc", "--max-bytes", "0", "--json"]))
    assert isinstance(gone, dict) and gone["entries_removed"] == 1
    assert _json(cli.invoke(app, ["cache", "stats", "--json"]))["entries"] == 0  # type: ignore[index]


def test_lock_pins_then_upgrades_on_purpose(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_ENABLE_FAKE", "1")
    spec = tmp_path / "lockme.yaml"
    spec.write_text(LOCKME.read_text())
    first = _json(cli.invoke(app, ["lock", str(spec), "--policy", "fastest", "--json"]))
    assert isinstance(first, dict) and first["lock"] == str(tmp_path / "lockme.lock")
    fast = {"packshot": "fake/image-a@1", "poster": "fake/image-edit-a@1"}
    assert read_lock(spec) == fast
    # another policy does not move a pin...
    kept = _json(cli.invoke(app, ["lock", str(spec), "--policy", "best", "--json"]))
    assert isinstance(kept, dict) and {c["change"] for c in kept["changes"]} == {"kept"}
    assert read_lock(spec) == fast
    # ...an upgrade of one step moves only that step
    text = cli.invoke(app, ["lock", str(spec), "--upgrade", "poster", "--policy", "best"]).stdout
    assert "poster: fake/image-edit-b@1 — upgraded (was fake/image-edit-a@1)" in text
    assert read_lock(spec) == {**fast, "poster": "fake/image-edit-b@1"}
    _json(cli.invoke(app, ["lock", str(spec), "--upgrade", "--policy", "best", "--json"]))
    assert read_lock(spec) == {"packshot": "fake/image-b@1", "poster": "fake/image-edit-b@1"}
    assert "no step 'hero'" in _error(cli.invoke(app, ["lock", str(spec), "--upgrade", "hero"]))
    assert "only with --upgrade" in _error(cli.invoke(app, ["lock", str(spec), "poster"]))
