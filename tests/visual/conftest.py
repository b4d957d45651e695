"""Helpers for the visual engines' tests: requests against the real engines, small renders."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podium.catalog.card import ModelCard
from podium.media.image import load_rgb
from podium.providers.base import InputArtifact, Request, Result
from podium.providers.local.engine import load_engine
from podium.providers.local.scene.gl import gl_problem
from podium.spec.vocabulary import TASK_OUTPUTS, ArtifactType, Task

W, H = 256, 144


@pytest.fixture(autouse=True, scope="session")
def _needs_gl() -> None:
    problem = gl_problem()
    if problem:
        pytest.skip(problem)


class Runner:
    """Runs local engines on requests built from plain values."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.count = 0

    def run(
        self,
        model: str,
        task: Task,
        prompt: Mapping[str, Any] | str | None,
        params: Mapping[str, Any] | None = None,
        inputs: Mapping[str, InputArtifact] | None = None,
        seed: int = 0,
    ) -> Result:
        """Run ``local/<model>`` once; returns its result."""
        self.count += 1
        work = self.tmp / f"job{self.count}"
        work.mkdir()
        card = ModelCard(id=f"local/{model}", tasks=(task,))
        request = Request(
            step_id=f"test{self.count}",
            task=task,
            card=card,
            prompt=prompt,
            prompt_text="",
            inputs=dict(inputs or {}),
            params={"width": W, "height": H, **(params or {})},
            seed=seed,
            outputs=TASK_OUTPUTS[task],
            work_dir=work,
            idempotency_key=f"k{self.count}",
        )
        engine = load_engine(model)
        assert engine is not None
        return engine.run(request, lambda event: None)

    def still(
        self, prompt: Mapping[str, Any], params: Mapping[str, Any] | None = None, seed: int = 0
    ) -> tuple[np.ndarray, dict[str, Any], InputArtifact]:
        """A studio still: its pixels, metadata, and the artifact a later step would get."""
        result = self.run("studio", Task.TEXT_TO_IMAGE, prompt, params, seed=seed)
        out = result.outputs[0]
        artifact = InputArtifact(ArtifactType.IMAGE, out.path, "0" * 64, out.metadata)
        return load_rgb(out.path), out.metadata, artifact


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    """A runner writing under the test's temporary directory."""
    return Runner(tmp_path)
