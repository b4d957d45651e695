"""Fixtures for spec tests: write a spec to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spec.specfiles import SpecFile, writer


@pytest.fixture
def spec_file(tmp_path: Path) -> SpecFile:
    """Write dedented YAML to ``tmp_path/spec.yaml`` and return its path."""
    return writer(tmp_path / "spec.yaml")
