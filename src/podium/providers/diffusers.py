"""The ``diffusers`` provider: a diffusers pipeline loaded from a local weights directory.

The card names the directory (``extra.weights_dir``, or ``endpoint``; ``~`` and ``$VARS``
expanded, relative paths taken from the card file) — Podium never downloads weights. The
pipeline runs on CUDA when torch sees a GPU, else on the CPU (``extra.device`` overrides), in
float16 on CUDA and float32 on CPU. Loaded pipelines stay warm in this provider's worker thread
(one per process, so a pipeline is never used by two calls at once) until the process ends.
Needs the optional extra: ``pip install podium[diffusers]``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import httpx

from podium.catalog.card import ModelCard
from podium.errors import InvalidInput, Transient, Unavailable
from podium.providers.base import Event, Job, OutputFile, Provider, Reporter, Request, Result
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType

_PIPELINES: dict[tuple[str, str], Any] = {}  # (weights dir, device) -> loaded pipeline
_LOCK = threading.Lock()


def weights_dir(card: ModelCard) -> Path | None:
    """The card's local weights directory, resolved."""
    raw = card.extra.get("weights_dir") or card.endpoint
    if not raw:
        return None
    path = Path(os.path.expandvars(os.path.expanduser(str(raw))))
    if not path.is_absolute() and card.source_file:
        path = Path(card.source_file).parent / path
    return path


def pick_device(card: ModelCard) -> str:
    """``extra.device``, else ``cuda`` when torch sees a GPU, else ``cpu``."""
    if card.extra.get("device"):
        return str(card.extra["device"])
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_pipeline(path: Path, device: str) -> tuple[Any, float]:
    """The pipeline in ``path`` on ``device``, loaded once per process (kept warm), and the
    seconds this call spent loading it (0 when it was warm)."""
    key = (str(path.resolve()), device)
    started = time.perf_counter()
    with _LOCK:
        if key not in _PIPELINES:
            import torch
            from diffusers import DiffusionPipeline

            # load as saved, then move: the dtype keyword of from_pretrained was renamed
            # across diffusers releases, while .to(device, dtype) is stable
            pipe = DiffusionPipeline.from_pretrained(str(path), local_files_only=True)  # type: ignore[no-untyped-call]
            dtype = torch.float16 if device.startswith("cuda") else torch.float32
            pipe = pipe.to(device, dtype)
            pipe.set_progress_bar_config(disable=True)
            _PIPELINES[key] = pipe
            return pipe, time.perf_counter() - started
        return _PIPELINES[key], 0.0


def generate(request: Request, report: Reporter) -> Result:
    """Run ``request`` on its pipeline (blocking; called in the worker thread)."""
    import torch

    card, where = request.card, f"step {request.step_id} ({request.card.id})"
    path = weights_dir(card)
    if path is None or not path.is_dir():
        raise Unavailable(
            f"weights directory {path} is missing",
            where=where,
            hint="point the card's extra.weights_dir at a saved diffusers pipeline",
        )
    device = pick_device(card)
    try:
        pipe, load_s = load_pipeline(path, device)
    except (OSError, ValueError) as exc:
        raise Unavailable(
            f"cannot load the pipeline in {path}: {exc}",
            where=where,
            hint="save it with pipeline.save_pretrained(dir)",
        ) from None
    steps = int(request.params.get("steps") or card.extra.get("steps", 25))

    def on_step(pipeline: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        report(Event("progress", progress=(step + 1) / steps))
        return kwargs

    args: dict[str, Any] = {
        "prompt": request.prompt_text,
        "num_inference_steps": steps,
        "guidance_scale": float(
            request.params.get("guidance_scale") or card.extra.get("guidance_scale", 7.0)
        ),
        "width": int(request.params.get("width") or card.extra.get("width", 512)),
        "height": int(request.params.get("height") or card.extra.get("height", 512)),
        "callback_on_step_end": on_step,
    }
    negative = request.field("negative")
    if negative:
        args["negative_prompt"] = str(negative)
    if request.seed is not None:
        args["generator"] = torch.Generator(device="cpu").manual_seed(int(request.seed))
    try:
        with torch.inference_mode():
            image = pipe(**args).images[0]
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        raise Transient(
            "the GPU ran out of memory", where=where, hint="lower width/height"
        ) from None
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"the pipeline rejected the call: {exc}", where=where) from None
    out = request.work_dir / f"{request.step_id}-0.png"
    image.save(out)
    return Result(
        outputs=[
            OutputFile(ArtifactType.IMAGE, out, {"width": image.width, "height": image.height})
        ],
        cost_usd=0.0,
        metadata={"device": device, "steps": steps, "load_s": round(load_s, 3)},
    )


class DiffusersProvider(Provider):
    """Runs local diffusers pipelines, kept warm in one worker thread."""

    name: ClassVar[str] = "diffusers"
    remote: ClassVar[bool] = False

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, client)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="podium-diffusers")

    def check(self, card: ModelCard) -> str | None:
        """Why ``card`` cannot run: the extra is not installed or the weights are missing."""
        for module in ("torch", "diffusers", "transformers"):
            if importlib.util.find_spec(module) is None:
                return (
                    f"Python package {module!r} is not installed (pip install 'podium[diffusers]')"
                )
        unset = re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", str(card.extra.get("weights_dir") or ""))
        missing = [name for name in unset if not os.environ.get(name)]
        if missing:
            return f"{missing[0]} is not set (the directory of a saved diffusers pipeline)"
        path = weights_dir(card)
        if path is None:
            return "the card names no weights directory (extra.weights_dir)"
        if not (path / "model_index.json").is_file():
            return f"no diffusers pipeline in {path} (model_index.json missing)"
        return None

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Nothing to submit: the pipeline runs in :meth:`wait`."""
        return Job(request=request)

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Run the pipeline in the worker thread; progress reaches ``report`` on this loop."""
        loop = asyncio.get_running_loop()

        def threadsafe(event: Event) -> None:
            loop.call_soon_threadsafe(report, event)

        return await loop.run_in_executor(self._worker, generate, job.request, threadsafe)

    async def aclose(self) -> None:
        """Stop the worker thread (loaded pipelines stay cached for the process)."""
        self._worker.shutdown(wait=False, cancel_futures=True)
