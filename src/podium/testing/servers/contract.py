"""The provider contract: what every provider does against its loopback server, fault by fault.

Podium's own suite (``tests/providers/test_contract.py``) runs these checks over every shipped
provider; a third-party provider registered by entry point runs the same ones against its own
:class:`~podium.testing.servers.base.Loopback` server::

    case = ProviderCase("acme", AcmeProvider, card, Task.TEXT_TO_IMAGE, (ArtifactType.IMAGE,))
    with AcmeServer() as server:  # settings point the provider at server.url
        await check_happy_path(Harness.wire(case, server, settings, client), tmp_path / "ok")
    for knob, value, expected in fault_matrix(case):
        with AcmeServer() as server:  # a fresh server per check: knobs and counts start clean
            h = Harness.wire(case, server, settings, client, secrets=("acme-key",))
            await check_fault(h, tmp_path / knob, knob, value, expected)

Each check raises ``AssertionError`` saying what the provider got wrong.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from podium.catalog.card import ModelCard
from podium.errors import BadOutput, PodiumError, QuotaExceeded, Refused, Transient
from podium.providers.base import Event, Provider, Request, Result
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task
from podium.testing.servers.base import Loopback

E = TypeVar("E", bound=BaseException)


@dataclass(frozen=True)
class ProviderCase:
    """One provider (and one of its cards) under the contract.

    Attributes:
        name: the case's name.
        cls: the provider class.
        card: a card it serves.
        task: the task the card runs.
        outputs: the outputs asked for.
        queue: a queue protocol (submit, then poll): never finishing, failing after acceptance,
            resume and lost creates apply.
        prompt: the prompt.
        server: the loopback server's name (default: ``name``).
        cost_usd: what one call costs (default: the card's unit price).
        content_policy: the vendor refuses content (the ``refuse`` knob applies).
        billing: the vendor has quotas or credits (the ``quota`` knob applies).
    """

    name: str
    cls: type[Provider]
    card: ModelCard
    task: Task
    outputs: tuple[ArtifactType, ...]
    queue: bool = True
    prompt: str = "a lemon soda can on a marble table"
    server: str = ""
    cost_usd: float | None = None
    content_policy: bool = True
    billing: bool = True

    @property
    def server_name(self) -> str:
        """The loopback server this case talks to."""
        return self.server or self.name

    @property
    def expected_cost(self) -> float:
        """What one call of this case costs."""
        return self.card.price.usd if self.cost_usd is None else self.cost_usd


def make_request(case: ProviderCase, work_dir: Path, **changes: Any) -> Request:
    """A request for ``case``'s card (any field overridable)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    fields: dict[str, Any] = dict(
        step_id="hero",
        task=case.task,
        card=case.card,
        prompt=case.prompt,
        prompt_text=case.prompt,
        inputs={},
        params={"width": 96, "height": 64},
        seed=7,
        outputs=case.outputs,
        work_dir=work_dir,
        idempotency_key="run1-hero-0",
    )
    fields.update(changes)
    return Request(**fields)


@dataclass
class Harness:
    """A provider wired to its loopback server, keeping the events it reports.

    Attributes:
        case: the case.
        server: its server.
        provider: the provider instance.
        settings: the settings it was built with (base URL pointed at the server).
        client: the HTTP client it uses.
        secrets: credential values that must never appear in an error.
        events: events reported so far.
    """

    case: ProviderCase
    server: Loopback
    provider: Provider
    settings: Settings
    client: httpx.AsyncClient
    secrets: tuple[str, ...] = ()
    events: list[Event] = field(default_factory=list)

    @classmethod
    def wire(
        cls,
        case: ProviderCase,
        server: Loopback,
        settings: Settings,
        client: httpx.AsyncClient,
        *,
        secrets: tuple[str, ...] = (),
    ) -> Harness:
        """Build ``case``'s provider with ``settings`` (pointing at ``server``) and ``client``."""
        return cls(case, server, case.cls(settings, client), settings, client, secrets)

    def request(self, work_dir: Path, **changes: Any) -> Request:
        """A request for this case."""
        return make_request(self.case, work_dir, **changes)

    def report(self, event: Event) -> None:
        """A reporter that keeps events."""
        self.events.append(event)

    def fresh(self) -> Provider:
        """Another instance of the provider (as after a restart), on the same client."""
        return self.case.cls(self.settings, self.client)

    async def run(self, work_dir: Path, **changes: Any) -> Result:
        """Submit and wait for one request."""
        job = await self.provider.submit(self.request(work_dir, **changes), self.report)
        return await self.provider.wait(job, self.report)


async def expect(kind: type[E], awaitable: Awaitable[object]) -> E:
    """The ``kind`` error ``awaitable`` raised (AssertionError if it raised none)."""
    try:
        await awaitable
    except kind as err:
        return err
    raise AssertionError(f"expected {kind.__name__}, nothing was raised")


def assert_no_secret(h: Harness, err: BaseException) -> None:
    """No credential may appear in what a user sees of an error."""
    text = f"{err} {err!r} {getattr(err, 'hint', '')} {getattr(err, 'where', '')}"
    for value in h.secrets:
        assert value not in text, f"a credential leaked into {type(err).__name__}"


def assert_outputs(h: Harness, result: Result, work_dir: Path) -> None:
    """The outputs are the types asked for, non-empty, written under ``work_dir``."""
    assert [o.type for o in result.outputs] == list(h.case.outputs), result.outputs
    for output in result.outputs:
        assert output.path.parent == work_dir, f"{output.path} is outside the work dir"
        assert output.path.stat().st_size > 0, f"{output.path} is empty"
    if result.outputs[0].type == ArtifactType.IMAGE:
        from PIL import Image

        with Image.open(result.outputs[0].path) as img:
            img.load()


def fault_matrix(case: ProviderCase) -> list[tuple[str, object, type[PodiumError]]]:
    """The fault knobs that apply to ``case`` and the failure class each must become."""
    faults: list[tuple[str, object, type[PodiumError]]] = [
        ("error_5xx", 1, Transient),
        ("rate_limit", 1, Transient),
        ("corrupt", True, BadOutput),
    ]
    if case.billing:
        faults.append(("quota", True, QuotaExceeded))
    if case.content_policy:
        faults.append(("refuse", True, Refused))
    return faults


async def check_happy_path(h: Harness, work_dir: Path) -> None:
    """Valid outputs under the work dir, the card's cost, one create, a request id."""
    result = await h.run(work_dir)
    assert_outputs(h, result, work_dir)
    assert abs(result.cost_usd - h.case.expected_cost) < 1e-9, result.cost_usd
    if h.case.queue:
        assert result.request_id, "a queue provider must report its request id"
        assert h.server.stats.to_dict()["creates_total"] == 1
        assert "queued" in {e.kind for e in h.events}


async def check_fault(
    h: Harness, work_dir: Path, knob: str, value: object, expected: type[PodiumError]
) -> None:
    """The knob's fault becomes ``expected`` naming the step; a passing one then clears."""
    h.server.faults.retry_after_s = 2.5
    h.server.faults.update({knob: value})
    err = await expect(expected, h.run(work_dir))
    assert_no_secret(h, err)
    assert "hero" in str(err), f"the error does not name the step: {err}"
    assert err.retryable == (expected is Transient)
    if knob == "rate_limit":
        assert err.retry_after == 2.5, err.retry_after
    if knob in ("error_5xx", "rate_limit"):  # counted knobs: the next call works
        assert_outputs(h, await h.run(work_dir / "again"), work_dir / "again")


async def check_dropped_body(h: Harness, work_dir: Path) -> None:
    """A body cut mid-way is Transient."""
    h.server.faults.drop_body = 1
    await expect(Transient, h.run(work_dir))


async def check_slow(h: Harness, impatient: Harness, work_dir: Path, slow_s: float = 0.1) -> None:
    """A slow server still answers; one slower than the client's read timeout is Transient."""
    h.server.faults.slow_s = slow_s
    started = time.monotonic()
    assert_outputs(h, await h.run(work_dir), work_dir)
    assert time.monotonic() - started >= slow_s
    impatient.server.faults.slow_s = slow_s * 1.5
    await expect(Transient, impatient.run(work_dir / "impatient"))


async def check_never_finishing(h: Harness, work_dir: Path, patience_s: float = 0.25) -> None:
    """A job that never finishes keeps the provider waiting (the runner's timeout ends it)
    and is cancelled at the vendor."""
    h.server.faults.never_finish = True
    job = await h.provider.submit(h.request(work_dir), h.report)
    await expect(TimeoutError, asyncio.wait_for(h.provider.wait(job, h.report), patience_s))
    await h.provider.cancel(job)
    assert h.server.stats.cancels == 1, "cancel did not reach the vendor"
    assert "started" in {e.kind for e in h.events}


async def check_failure_after_acceptance(h: Harness, work_dir: Path) -> None:
    """A job that fails after it was accepted is a failure the runner can fall back from
    (neither a refusal nor a bad output)."""
    h.server.faults.fail_after_accept = True
    job = await h.provider.submit(h.request(work_dir), h.report)
    assert job.request_id, "the accepted job has no request id"
    err = await expect(PodiumError, h.provider.wait(job, h.report))
    assert not isinstance(err, Refused | BadOutput), err
    assert_no_secret(h, err)


async def check_resume(h: Harness, work_dir: Path) -> None:
    """A fresh provider instance resumes by request id and state; nothing is created again."""
    h.server.faults.run_s = 0.3
    request = h.request(work_dir)
    job = await h.provider.submit(request, h.report)
    restarted = h.fresh()
    resumed = await restarted.resume(request, str(job.request_id), dict(job.state))
    result = await restarted.wait(resumed, h.report)
    assert_outputs(h, result, work_dir)
    assert result.request_id == job.request_id
    assert h.server.stats.to_dict()["creates_total"] == 1


async def check_lost_create(h: Harness, work_dir: Path) -> None:
    """A create whose answer is lost is Transient, and is found again before any new create
    — unless the protocol has no way to look it up (then ``find`` says ``None``)."""
    h.server.faults.lose_create = 1
    request = h.request(work_dir)
    await expect(Transient, h.provider.submit(request, h.report))
    found = await h.provider.find(request)
    if found is None:
        assert type(h.provider).find is Provider.find, "find() overridden but found nothing"
        return
    assert_outputs(h, await h.provider.wait(found, h.report), work_dir)
    assert h.server.stats.to_dict()["creates_total"] == 1
