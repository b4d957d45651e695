"""Operators can take a model or a whole provider out of service with PODIUM_DISABLED."""

from __future__ import annotations

import pytest

from podium.catalog import load_catalog
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings


def test_disabled_model_and_provider(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    catalog = load_catalog()
    template = catalog.get("local/template")
    assert ProviderRegistry(settings).check(template) is None
    monkeypatch.setenv("PODIUM_DISABLED", "local/template, fal")
    off = Settings()
    reason = ProviderRegistry(off).check(template)
    assert reason == "local/template is disabled by PODIUM_DISABLED"
    fal = next(c for c in catalog if c.provider == "fal")
    assert ProviderRegistry(off).check(fal) == "provider fal is disabled by PODIUM_DISABLED"
