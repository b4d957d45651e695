"""Helpers for router tests: pipelines from step dicts and a stand-in for LoadedSpec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from podium.spec import Pipeline


@dataclass(frozen=True)
class Loaded:
    """A stand-in for podium.spec.loader.LoadedSpec: the pipeline and its resolved inputs."""

    pipeline: Pipeline
    inputs: Mapping[str, Any] = field(default_factory=dict)


def pipeline(*steps: dict[str, Any], **fields: Any) -> Pipeline:
    """A pipeline named ``t`` from step dicts."""
    return Pipeline.model_validate({"name": "t", "steps": list(steps), **fields})
