"""``fake``: the testing provider. Enabled only with ``PODIUM_ENABLE_FAKE=1``.

Its cards (``podium/testing/cards``) cover every task. Behaviour is set by step params:

- ``latency_s``: how long a call takes, writing its outputs included (kept to the tenth of a
  millisecond: see :mod:`podium.testing.clock`);
- ``fail_rate`` (0–1) and ``fail_kind`` (a failure class code: ``transient``, ``timeout``,
  ``quota_exceeded``, ``refused``, ``bad_output``, ``invalid_input``, ``unavailable``, or
  ``crash``; or ``wrong_duration``: audio and video half as long again as asked);
  ``fail_model`` limits failures to some model ids (a primary fails, its fallback does not);
  ``retry_after_s`` rides on a transient failure;
- ``cost_usd``: what one call costs; ``seed``, ``duration_s``, ``width``, ``height``.

Whether an attempt fails is decided by a hash of its idempotency key, so it is reproducible and a
retry (a new key) gets a fresh draw. ``timeout`` sleeps until the runner's timeout fires,
``bad_output`` writes corrupt bytes and ``wrong_duration`` media of the wrong length, so all three
are caught the way real faults are.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from podium.catalog.card import ModelCard
from podium.errors import FAILURE_CLASSES, PodiumError
from podium.providers.base import Event, Job, OutputFile, Provider, Reporter, Request, Result
from podium.spec.vocabulary import FILE_EXTENSIONS, ArtifactType
from podium.testing import clock
from podium.testing.media import corrupt, write_artifact

DISABLED = "the fake testing provider is disabled; set PODIUM_ENABLE_FAKE=1 to use it"


def draw(key: str) -> float:
    """A reproducible number in [0, 1) from a key."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(1 << 48)


def fault_for(request: Request) -> str | None:
    """The failure kind this attempt suffers, or ``None``."""
    rate = float(request.params.get("fail_rate") or 0.0)
    if rate <= 0:
        return None
    only = request.params.get("fail_model")
    if only:
        ids = [only] if isinstance(only, str) else list(only)
        if request.card.id not in ids and request.card.ref not in ids:
            return None
    if draw(request.idempotency_key) >= rate:
        return None
    return str(request.params.get("fail_kind") or "transient")


def fault_error(kind: str, request: Request) -> PodiumError:
    """The error a fault of ``kind`` raises, as a real provider edge would translate it."""
    where = f"step {request.step_id}, model {request.card.ref}"
    if kind == "crash":
        raise RuntimeError("fake engine crashed")
    cls = FAILURE_CLASSES.get(kind, PodiumError)
    retry_after = request.params.get("retry_after_s")
    return cls(
        f"fake {kind.replace('_', ' ')}",
        where=where,
        hint="injected by the fake provider's fail_rate/fail_kind params",
        retry_after=float(retry_after) if retry_after is not None else None,
    )


def seconds_of(request: Request) -> float | None:
    """The duration asked for, from the prompt or params."""
    value = request.field("duration_s")
    return float(value) if value not in (None, "") else None


#: faults that still write outputs (the runner's checks catch them), rather than raising
WRITTEN_FAULTS = ("bad_output", "wrong_duration")


def make_outputs(request: Request, stretch: float = 1.0) -> list[OutputFile]:
    """Write one small valid artifact per expected output type (audio and video ``stretch``
    times as long as asked)."""
    seed = int(request.seed or 0)
    text = request.prompt_text or (request.prompt if isinstance(request.prompt, str) else "")
    items = tuple(a.sha256 for a in request.many("items"))
    duration = seconds_of(request)
    if duration is None and request.many("shots"):
        duration = sum(float(a.metadata.get("duration_s") or 1.0) for a in request.many("shots"))
    if duration is not None:
        duration *= stretch
    width = request.params.get("width")
    height = request.params.get("height")
    outputs = []
    for i, kind in enumerate(request.outputs):
        path = request.work_dir / f"out-{i}.{FILE_EXTENSIONS[ArtifactType(kind)]}"
        meta = write_artifact(
            ArtifactType(kind),
            path,
            seed=seed,
            text=str(text or ""),
            duration_s=duration,
            width=int(width) if width else None,
            height=int(height) if height else None,
            items=items,
        )
        outputs.append(OutputFile(ArtifactType(kind), path, meta))
    return outputs


class FakeProvider(Provider):
    """The ``fake`` testing provider: in-process, behaviour set by step params."""

    name: ClassVar[str] = "fake"
    remote: ClassVar[bool] = False

    def check(self, card: ModelCard) -> str | None:
        """Unavailable unless the fake is enabled."""
        return None if self.settings.enable_fake else DISABLED

    def estimate_cost(self, card: ModelCard, params: Mapping[str, Any]) -> float:
        """``params.cost_usd`` when given, else the card's price."""
        if params.get("cost_usd") is not None:
            return float(params["cost_usd"])
        return super().estimate_cost(card, params)

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Accept at once (no request id: the fake is not remote)."""
        report(Event("queued", data={"position": 0}))
        return Job(request=request)

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Sleep ``latency_s``, then fail as asked or write the outputs."""
        request = job.request
        started = time.monotonic()
        report(Event("started"))
        kind = fault_for(request)
        latency = float(request.params.get("latency_s") or 0.0)
        if kind == "timeout":
            await asyncio.sleep(max(latency, (request.timeout_s or 3600.0) * 4))
        outputs: list[OutputFile] = []
        if not kind or kind in WRITTEN_FAULTS:
            # written while the call takes its time, as an engine writes its output while it
            # works: the call lasts latency_s in all, whatever creating a file costs here
            outputs = make_outputs(request, 1.5 if kind == "wrong_duration" else 1.0)
            for out in outputs if kind == "bad_output" else ():
                corrupt(out.path)
        if latency > 0:
            # fail-fast faults come back early, as real 5xx and refusals do; woken on time, as
            # a reply on a socket would be (see podium.testing.clock)
            left = latency * (0.1 if kind else 1.0) - (time.monotonic() - started)
            await clock.sleep(left)
        if kind and kind not in WRITTEN_FAULTS:
            raise fault_error(kind, request)
        report(Event("progress", progress=1.0))
        return Result(outputs=outputs, cost_usd=self.estimate_cost(request.card, request.params))
