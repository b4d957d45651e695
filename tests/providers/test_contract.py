"""One contract every remote provider passes against its loopback server, fault knobs included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from podium.errors import BadOutput, PodiumError, QuotaExceeded, Refused, Transient
from podium.providers.base import Provider
from tests.providers.conftest import CASES, KEYS, Wired

EVERY = pytest.mark.parametrize("name", list(CASES))
# queue protocols (submit, then poll): never finishing, failing after acceptance, lost creates
QUEUED = pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.queue])
POLICED = [n for n, c in CASES.items() if c.content_policy]
BILLED = [n for n, c in CASES.items() if c.billing]


def assert_no_secret(err: BaseException) -> None:
    """No key may appear in what a user sees."""
    text = f"{err} {err!r} {getattr(err, 'hint', '')} {getattr(err, 'where', '')}"
    for value in KEYS.values():
        assert value not in text


async def run(w: Wired, tmp_path: Path, **changes: object) -> object:
    provider = w.provider
    job = await provider.submit(w.request(tmp_path, **changes), w.report)
    return await provider.wait(job, w.report)


def check_output(result: object, case_outputs: tuple[object, ...]) -> None:
    outputs = result.outputs  # type: ignore[attr-defined]
    assert [o.type for o in outputs] == list(case_outputs)
    first = outputs[0]
    assert first.path.exists() and first.path.stat().st_size > 0
    if first.type.value == "image":
        with Image.open(first.path) as img:
            assert img.size[0] > 0


@EVERY
async def test_happy_path(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire(name)
    result = await run(w, tmp_path)
    check_output(result, w.case.outputs)
    assert result.cost_usd == pytest.approx(w.case.expected_cost)  # type: ignore[attr-defined]
    assert all(o.path.parent == tmp_path for o in result.outputs)  # type: ignore[attr-defined]
    if w.case.queue:
        assert result.request_id  # type: ignore[attr-defined]
        assert w.server.stats.to_dict()["creates_total"] == 1
        assert {"queued"} <= {e.kind for e in w.events}


SUBMIT_FAULTS = [
    (name, knob, value, expected)
    for name in CASES
    for knob, value, expected in (
        ("error_5xx", 1, Transient),
        ("rate_limit", 1, Transient),
        ("quota", True, QuotaExceeded),
    )
    if knob != "quota" or name in BILLED
]
OUTPUT_FAULTS = [
    (name, knob, expected)
    for name in CASES
    for knob, expected in (("corrupt", BadOutput), ("refuse", Refused))
    if knob != "refuse" or name in POLICED
]


@pytest.mark.parametrize(("name", "knob", "value", "expected"), SUBMIT_FAULTS)
async def test_submit_faults(
    name: str,
    knob: str,
    value: object,
    expected: type[PodiumError],
    wire: Callable[..., Wired],
    tmp_path: Path,
) -> None:
    w = wire(name)
    w.server.faults.retry_after_s = 2.5
    setattr(w.server.faults, knob, value)
    with pytest.raises(expected) as info:
        await run(w, tmp_path)
    assert_no_secret(info.value)
    assert "hero" in str(info.value)  # the step is named
    if knob == "rate_limit":
        assert info.value.retry_after == pytest.approx(2.5)
        assert info.value.retryable
    if knob != "quota":  # a passing fault: the same call works next time
        check_output(await run(w, tmp_path / "again"), w.case.outputs)


@pytest.mark.parametrize(("name", "knob", "expected"), OUTPUT_FAULTS)
async def test_output_faults(
    name: str, knob: str, expected: type[PodiumError], wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire(name)
    setattr(w.server.faults, knob, True)
    with pytest.raises(expected) as info:
        await run(w, tmp_path)
    assert not info.value.retryable
    assert_no_secret(info.value)


@EVERY
async def test_connection_dropped_mid_body(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire(name)
    w.server.faults.drop_body = 1
    with pytest.raises(Transient):
        await run(w, tmp_path)


@EVERY
async def test_slow_server(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire(name)
    w.server.faults.slow_s = 0.1
    started = time.monotonic()
    check_output(await run(w, tmp_path), w.case.outputs)
    assert time.monotonic() - started >= 0.1
    impatient = wire(name, read_timeout=0.05)
    impatient.server.faults.slow_s = 0.15
    with pytest.raises(Transient):
        await run(impatient, tmp_path / "impatient")


@QUEUED
async def test_never_finishing_job_is_cancelled(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire(name)
    w.server.faults.never_finish = True
    job = await w.provider.submit(w.request(tmp_path), w.report)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(w.provider.wait(job, w.report), 0.25)
    await w.provider.cancel(job)
    assert w.server.stats.cancels == 1
    assert "started" in {e.kind for e in w.events}


@QUEUED
async def test_failure_after_acceptance(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire(name)
    w.server.faults.fail_after_accept = True
    job = await w.provider.submit(w.request(tmp_path), w.report)
    assert job.request_id
    with pytest.raises(PodiumError) as info:
        await w.provider.wait(job, w.report)
    assert not isinstance(info.value, Refused | BadOutput)
    assert_no_secret(info.value)


@QUEUED
async def test_resume_by_request_id(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire(name)
    w.server.faults.run_s = 0.3
    request = w.request(tmp_path)
    job = await w.provider.submit(request, w.report)
    # a new process: only the journaled request id and state survive
    restarted = w.fresh()
    resumed = await restarted.resume(request, str(job.request_id), dict(job.state))
    result = await restarted.wait(resumed, w.report)
    check_output(result, w.case.outputs)
    assert result.request_id == job.request_id
    assert w.server.stats.to_dict()["creates_total"] == 1


@QUEUED
async def test_lost_create_response(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    w = wire(name)
    w.server.faults.lose_create = 1
    request = w.request(tmp_path)
    with pytest.raises(Transient):
        await w.provider.submit(request, w.report)
    found = await w.provider.find(request)
    if found is None:
        # only a protocol that cannot look requests up by Podium's marker may say "not found"
        assert w.case.cls.find is Provider.find, f"{name} should have found its lost create"
        return
    result = await w.provider.wait(found, w.report)
    check_output(result, w.case.outputs)
    assert w.server.stats.to_dict()["creates_total"] == 1


@EVERY
async def test_missing_key_is_unavailable(
    name: str, wire: Callable[..., Wired], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = wire(name)
    env = w.case.card.credentials[0] if w.case.card.credentials else None
    if env is None:
        return
    monkeypatch.delenv(env)
    assert w.provider.check(w.case.card) == f"{env} is not set"
    with pytest.raises(PodiumError) as info:
        await run(w, tmp_path)
    assert env in str(info.value)
