"""Observed figures from the ledger replace priors past ``min_samples``; open circuits exclude."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.catalog import Catalog
from podium.cli import app
from podium.plan import Router
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.store.base import Journal
from podium.store.memory import InMemoryJournal, InMemoryState
from podium.store.open import open_store
from podium.store.records import AttemptRecord, BreakerState
from podium.store.stats import percentile
from tests.plan.routing_helpers import pipeline

pytestmark = pytest.mark.usefixtures("all_keys")

HERO = {"id": "hero", "task": "text-to-image", "prompt": {"subject": "a can of soda"}}
NOW = 1_790_000_000.0


def ledger(journal: Journal, model: str, latencies: list[float], failures: int = 0) -> None:
    """Finished attempts of ``model``: one success per latency, then ``failures`` failures."""
    rows: list[tuple[float, str, str | None]] = [(lat, "succeeded", None) for lat in latencies]
    rows += [(1.0, "failed", "transient")] * failures
    for i, (lat, status, code) in enumerate(rows):
        journal.put_attempt(
            AttemptRecord(
                attempt_id=f"{model}-{i}",
                run_id="r1",
                step_key="hero",
                model=model,
                provider=model.split("/")[0],
                idempotency_key=f"k-{model}-{i}",
                status=status,
                started_at=NOW - 100 + i,
                finished_at=NOW - 100 + i + lat,
                latency_s=lat,
                error_code=code,
            )
        )


def router_with(
    catalog: Catalog, registry: ProviderRegistry, home: Path, **kwargs: object
) -> Router:
    settings = Settings(home=home, min_samples=5)
    return Router(catalog, registry.check, settings, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def test_observed_figures_replace_priors_past_min_samples(
    catalog: Catalog, registry: ProviderRegistry, podium_home: Path
) -> None:
    journal = InMemoryJournal()
    ledger(journal, "fal/flux@1", [0.3, 0.4, 0.5, 0.4])  # 4 samples: too few
    router = router_with(catalog, registry, podium_home, journal=journal)
    before = router.plan(pipeline(HERO), policy="fastest").decisions["hero"]
    flux = before.candidate("fal/flux")
    assert flux.observed is not None and flux.observed["samples"] == 4
    assert flux.observed["used"] is False
    assert flux.latency_p95_s == catalog.get("fal/flux").priors.latency_p95_s
    assert before.chosen == "local/studio@1"

    ledger(journal, "fal/flux@1", [0.3, 0.4, 0.5, 0.4, 0.35], failures=1)  # 6 samples now
    after = router.plan(pipeline(HERO), policy="fastest").decisions["hero"]
    flux = after.candidate("fal/flux")
    stats = journal.observed("fal/flux@1")
    assert flux.observed is not None and flux.observed["used"] is True
    assert flux.latency_p95_s == pytest.approx(stats.latency_p95_s)
    assert flux.reliability == pytest.approx(1 - (stats.error_rate or 0.0))
    assert flux.prior["latency_p95_s"] == catalog.get("fal/flux").priors.latency_p95_s
    assert after.chosen == "fal/flux@1"  # observed: faster than the studio's prior
    studio = after.candidate("local/studio")
    assert studio.observed is None  # no samples: priors, and nothing observed to show


def test_open_circuit_excluded_with_its_time(
    catalog: Catalog, registry: ProviderRegistry, podium_home: Path
) -> None:
    state = InMemoryState()
    until = NOW + 125
    state.put_breaker(BreakerState("fal/flux", "open", 5, until))
    state.put_breaker(BreakerState("provider:replicate", "open", 3, NOW + 60))
    state.put_breaker(BreakerState("openai/image", "open", 5, NOW - 1))  # cooled down
    router = router_with(catalog, registry, podium_home, state=state)
    d = router.plan(pipeline(HERO), policy="best").decisions["hero"]
    clock = time.strftime("%H:%M:%S", time.localtime(until))
    flux = d.candidate("fal/flux").excluded
    assert flux is not None
    assert (flux.code, flux.reason) == ("circuit_open", f"circuit open until {clock}")
    sdxl = d.candidate("replicate/sdxl").excluded
    assert sdxl is not None
    replicate_until = time.strftime("%H:%M:%S", time.localtime(NOW + 60))
    assert sdxl.reason == f"provider replicate: circuit open until {replicate_until}"
    assert "fal" not in d.chain[0] and "replicate" not in " ".join(d.chain)
    # openai's breaker has cooled down, but openai is not installed here: that reason wins
    openai = d.candidate("openai/image").excluded
    assert openai is not None and openai.code == "unavailable"


def test_cooled_down_breaker_lets_the_model_back(
    catalog: Catalog, registry: ProviderRegistry, podium_home: Path
) -> None:
    state = InMemoryState()
    state.put_breaker(BreakerState("fal/flux", "open", 5, NOW - 1))
    router = router_with(catalog, registry, podium_home, state=state)
    d = router.plan(pipeline(HERO), policy="best").decisions["hero"]
    assert d.chosen == "fal/flux@1"


def test_plan_cli_shows_prior_and_observed(
    podium_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_ENABLE_FAKE", "1")
    monkeypatch.setenv("PODIUM_CATALOG_PATH", str(Path(__file__).parent / "cli_cards"))
    monkeypatch.setenv("PODIUM_MIN_SAMPLES", "3")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("FAL_KEY", "test-key")
    with open_store(Settings()) as store:
        ledger(store.journal, "fal/test-image@1", [1.5, 2.5, 3.5])
    spec = Path(__file__).parent / "pipelines" / "promo.yaml"
    result = CliRunner().invoke(app, ["plan", str(spec), "--policy", "best"])
    assert result.exit_code == 0, result.output
    rows = [line.strip() for line in result.stdout.splitlines()]
    row = next(line for line in rows if line.startswith("fal/test-image@1"))
    p95 = percentile([1.5, 2.5, 3.5], 95)
    assert f"observed p95 {p95:.1f} s" in row and "over 3 samples" in row
    assert "priors were p95 6.0 s" in row
