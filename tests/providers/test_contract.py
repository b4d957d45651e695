"""One contract every remote provider passes against its loopback server, fault knobs included
(the checks live in :mod:`podium.testing.servers.contract`, so third-party providers can run
them too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podium.errors import PodiumError
from podium.testing.servers import contract
from tests.providers.conftest import CASES, Wired

EVERY = pytest.mark.parametrize("name", list(CASES))
# queue protocols (submit, then poll): never finishing, failing after acceptance, lost creates
QUEUED = pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.queue])
FAULTS = [
    (name, knob, value, expected)
    for name, case in CASES.items()
    for knob, value, expected in contract.fault_matrix(case)
]


@EVERY
async def test_happy_path(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    await contract.check_happy_path(wire(name), tmp_path)


@pytest.mark.parametrize(("name", "knob", "value", "expected"), FAULTS)
async def test_fault(
    name: str,
    knob: str,
    value: object,
    expected: type[PodiumError],
    wire: Callable[..., Wired],
    tmp_path: Path,
) -> None:
    await contract.check_fault(wire(name), tmp_path, knob, value, expected)


@EVERY
async def test_connection_dropped_mid_body(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    await contract.check_dropped_body(wire(name), tmp_path)


@EVERY
async def test_slow_server(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    await contract.check_slow(wire(name), wire(name, read_timeout=0.05), tmp_path)


@QUEUED
async def test_never_finishing_job_is_cancelled(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    await contract.check_never_finishing(wire(name), tmp_path)


@QUEUED
async def test_failure_after_acceptance(
    name: str, wire: Callable[..., Wired], tmp_path: Path
) -> None:
    await contract.check_failure_after_acceptance(wire(name), tmp_path)


@QUEUED
async def test_resume_by_request_id(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    await contract.check_resume(wire(name), tmp_path)


@QUEUED
async def test_lost_create_response(name: str, wire: Callable[..., Wired], tmp_path: Path) -> None:
    await contract.check_lost_create(wire(name), tmp_path)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.card.credentials])
async def test_missing_key_is_unavailable(
    name: str, wire: Callable[..., Wired], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = wire(name)
    env = w.case.card.credentials[0]
    monkeypatch.delenv(env)
    assert w.provider.check(w.case.card) == f"{env} is not set"
    err = await contract.expect(PodiumError, w.run(tmp_path))
    assert env in str(err)
