"""A test catalog (tests/plan/cards) and a provider registry whose checks are the real ones:
credentials by env var name, local engines by their ``engine`` requirements."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.catalog import Catalog, ModelCard, load_catalog
from podium.plan import Router
from podium.providers.base import Job, Provider, Reporter, Request, Result
from podium.providers.local.engine import check_requirements
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings

CARDS = Path(__file__).parent / "cards"
KEYS = ("FAL_KEY", "REPLICATE_API_TOKEN", "OPENAI_API_KEY", "ELEVENLABS_API_KEY")


class _Offline(Provider):
    """Checks like a real provider (keys, then engine requirements); never runs anything."""

    def check(self, card: ModelCard) -> str | None:
        return super().check(card) or check_requirements(card.engine)

    async def submit(self, request: Request, report: Reporter) -> Job:
        raise NotImplementedError

    async def wait(self, job: Job, report: Reporter) -> Result:
        raise NotImplementedError


@pytest.fixture
def catalog() -> Catalog:
    """The test catalog only (no shipped cards)."""
    return load_catalog([CARDS], shipped=False)


@pytest.fixture
def registry(settings: Settings) -> ProviderRegistry:
    """Providers of the test catalog, except ``openai`` (not installed)."""
    names = ("local", "fal", "replicate", "elevenlabs")
    return ProviderRegistry(settings, classes=dict.fromkeys(names, _Offline))


@pytest.fixture
def all_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every remote provider's key is set."""
    for key in KEYS:
        monkeypatch.setenv(key, "test-key")


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No remote provider's key is set."""
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def make_router(
    catalog: Catalog, registry: ProviderRegistry, settings: Settings
) -> Callable[..., Router]:
    """Build a router over the test catalog; keyword arguments go to Router."""

    def build(**kwargs: Any) -> Router:
        return Router(catalog, registry.check, settings, **kwargs)

    return build
