"""Fixtures of the 3D and scoring tests: requests for local engines, test images."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from podium.catalog import load_catalog
from podium.providers.base import InputValue, Request
from podium.spec.vocabulary import Task

MakeRequest = Callable[..., Request]


@pytest.fixture
def make_request(tmp_path: Path) -> MakeRequest:
    """Build a :class:`Request` for a shipped local card, with a fresh work dir."""
    catalog = load_catalog()
    counter = iter(range(1_000_000))

    def build(
        card_id: str,
        task: Task,
        *,
        prompt: Mapping[str, Any] | str | None = None,
        inputs: Mapping[str, InputValue] | None = None,
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
    ) -> Request:
        card = catalog.get(card_id)
        n = next(counter)
        work = tmp_path / f"work-{n}"
        work.mkdir()
        return Request(
            step_id=f"step{n}",
            task=task,
            card=card,
            prompt=prompt,
            prompt_text=card.render_prompt(dict(prompt) if isinstance(prompt, Mapping) else prompt),
            inputs=dict(inputs or {}),
            params=dict(params or {}),
            seed=seed,
            outputs=card.outputs_for(task),
            work_dir=work,
            idempotency_key=f"k{n}",
        )

    return build
