"""Running the offline audio engines the way the runner does: a Request to the local provider."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from podium.catalog import load_catalog
from podium.providers.base import InputArtifact, Reporter, Request, Result, ignore_events
from podium.providers.local import LocalProvider
from podium.settings import Settings
from podium.spec.vocabulary import TASK_OUTPUTS, ArtifactType, Task

LEMON = (
    "Our new lemon soda is brewed with real lemons and a little sparkle, and it tastes like "
    "the first warm day of summer. Grab one today."
)


def make_request(
    model: str,
    work_dir: Path,
    *,
    prompt: Mapping[str, Any] | str | None = None,
    params: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Path] | None = None,
    seed: int = 0,
) -> Request:
    """A request for ``local/<model>`` writing into ``work_dir``."""
    card = load_catalog().get(model)
    task = card.tasks[0]
    work_dir.mkdir(parents=True, exist_ok=True)
    arts = {
        slot: InputArtifact(ArtifactType.AUDIO, path, slot) for slot, path in (inputs or {}).items()
    }
    return Request(
        step_id=task.value.split("-")[-1],
        task=Task(task),
        card=card,
        prompt=prompt,
        prompt_text=card.render_prompt(prompt),
        inputs=arts,
        params=dict(params or {}),
        seed=seed,
        outputs=TASK_OUTPUTS[Task(task)],
        work_dir=work_dir,
        idempotency_key=f"{model}-{work_dir.name}",
    )


async def run_local(request: Request, report: Reporter = ignore_events) -> Result:
    """Run the request inline through the local provider."""
    provider = LocalProvider(Settings())
    job = await provider.submit(request, report)
    return await provider.wait(job, report)
