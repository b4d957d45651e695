"""Shared fixtures: every test gets its own PODIUM_HOME so no test sees another's store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.settings import Settings


@pytest.fixture(autouse=True)
def podium_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated PODIUM_HOME (and working directory without a podium.toml)."""
    home = tmp_path / "podium-home"
    home.mkdir()
    monkeypatch.setenv("PODIUM_HOME", str(home))
    for key in list(os.environ):
        if key.startswith("PODIUM_") and key not in ("PODIUM_HOME",):
            monkeypatch.delenv(key, raising=False)
    yield home


@pytest.fixture
def settings(podium_home: Path) -> Settings:
    """Settings pointing at the isolated home."""
    return Settings(home=podium_home)


OPTIONAL_MARKERS = ("blender", "diffusers")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With CI=true a skip is a failure, unless the test needs an optional engine or extra."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (
        os.environ.get("CI", "").lower() == "true"
        and report.skipped
        and not any(item.get_closest_marker(m) for m in OPTIONAL_MARKERS)
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped under CI=true (set-up must install what it needs): {report.longrepr}"
        )
