"""Runner fixtures: a runner over the in-memory store and the testing providers' cards only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from podium.catalog.catalog import load_catalog
from podium.execute import RunEvent, Runner, local_runner
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec.loader import LoadedSpec, load_pipeline_text
from podium.store.open import Store, memory_store
from podium.testing import CARDS
from podium.testing.fake_remote import FakeRemoteServer
from podium.testing.workloads import testing_providers


@dataclass
class Harness:
    """A runner and what it runs against."""

    settings: Settings
    store: Store
    runner: Runner
    registry: ProviderRegistry
    events: list[RunEvent] = field(default_factory=list)

    def spec(self, text: str, name: str = "t.yaml") -> LoadedSpec:
        """A loaded spec from YAML text."""
        return load_pipeline_text(text, name)

    def attempts(self, run_id: str, key: str | None = None) -> list[tuple[str, str, str | None]]:
        """(model, status, error_code) per attempt, oldest first."""
        return [(a.model, a.status, a.error_code) for a in self.store.journal.attempts(run_id, key)]


def build(
    settings: Settings,
    store: Store | None = None,
    client_factory: Callable[[str], httpx.AsyncClient] | None = None,
) -> Harness:
    """A harness over ``store`` (a fresh in-memory one by default)."""
    store = store or memory_store()
    catalog = load_catalog([CARDS], shipped=False)
    runner, registry, _ = local_runner(
        settings, catalog, store, classes=testing_providers(), client_factory=client_factory
    )
    return Harness(settings, store, runner, registry)


@pytest.fixture
def fake_settings(podium_home: Path) -> Settings:
    """Settings with the fake provider on and fast breakers."""
    return Settings(home=podium_home, enable_fake=True, breaker_cooldown_s=60.0)


@pytest.fixture
async def harness(fake_settings: Settings) -> AsyncIterator[Harness]:
    """A runner over a fresh in-memory store."""
    h = build(fake_settings)
    yield h
    await h.registry.aclose()
    h.store.close()


@pytest.fixture(scope="session")
def remote_server() -> Iterator[FakeRemoteServer]:
    """One fake-remote queue server process for the session."""
    with FakeRemoteServer() as server:
        yield server


@pytest.fixture
def remote(remote_server: FakeRemoteServer, monkeypatch: pytest.MonkeyPatch) -> FakeRemoteServer:
    """The fake-remote server, with the provider pointed at it."""
    monkeypatch.setenv("PODIUM_FAKE_REMOTE_URL", remote_server.url)
    return remote_server
