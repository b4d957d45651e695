"""Circuit breakers: open after K failures or a high error rate, probe after the cooldown, and
the router excludes an open model saying until when."""

from __future__ import annotations

import time
from pathlib import Path

from podium.errors import QuotaExceeded, Refused, Transient
from podium.execute.breaker import Breakers
from podium.plan.router import Router
from podium.settings import Settings
from podium.store.memory import InMemoryState

from .conftest import Harness, build


def test_opens_after_consecutive_failures_and_probes_after_cooldown(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, breaker_failures=3, breaker_cooldown_s=0.2)
    state = InMemoryState()
    b = Breakers(state, settings)
    for _ in range(2):
        b.record(["m"], Transient("x"))
    assert b.blocked(["m"]) is None
    b.record(["m"], Transient("x"))
    why = b.blocked(["m"])
    assert why is not None and "circuit open until" in why
    assert state.breaker("m").state == "open"  # persisted for `podium health` and the router
    time.sleep(0.25)
    assert b.blocked(["m"]) is None  # the half-open probe goes through ...
    assert "probe" in (b.blocked(["m"]) or "")  # ... alone
    b.record(["m"], None)
    assert state.breaker("m").state == "closed" and b.blocked(["m"]) is None


def test_a_refresh_sees_what_another_process_did(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, breaker_failures=2, breaker_cooldown_s=60)
    state = InMemoryState()  # the store both processes share
    mine, theirs = Breakers(state, settings), Breakers(state, settings)
    assert mine.blocked(["m"]) is None  # read, and cached, while closed
    for _ in range(2):
        theirs.record(["m"], Transient("x"))  # the other process opens it
    assert mine.blocked(["m"]) is None  # a run already going keeps what it read
    mine.refresh()  # the runner refreshes at the start of each run
    assert "circuit open until" in (mine.blocked(["m"]) or "")


def test_one_process_probes_while_the_others_wait(tmp_path: Path) -> None:
    from podium.store.open import open_store

    settings = Settings(home=tmp_path, breaker_failures=1, breaker_cooldown_s=0.2)
    with open_store(settings) as one, open_store(settings) as two:  # two processes' stores
        first, second = Breakers(one.state, settings), Breakers(two.state, settings)
        first.record(["m"], Transient("x"))  # open
        time.sleep(0.25)
        assert first.blocked(["m"]) is None  # the probe is taken in the store ...
        why = second.blocked(["m"])  # ... so the other process waits for its outcome
        assert why == "m: circuit half-open, another process's probe is running"
        first.record(["m"], None)  # the probe succeeded: closed for everyone
        second.refresh()
        assert second.blocked(["m"]) is None and two.state.breaker("m").state == "closed"
        # a probe whose process died gives way once its lease (a cooldown) has run out
        second.record(["m"], Transient("x"))
        time.sleep(0.25)
        assert second.blocked(["m"]) is None  # probing, then gone without an outcome
        first.refresh()
        assert "another process's probe" in (first.blocked(["m"]) or "")
        time.sleep(0.25)
        first.refresh()
        assert first.blocked(["m"]) is None


def test_failed_probe_reopens_and_refusals_do_not_count(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, breaker_failures=2, breaker_cooldown_s=0.1)
    b = Breakers(InMemoryState(), settings)
    for _ in range(5):
        b.record(["m"], Refused("no"))  # the model works; it declined a prompt
    assert b.blocked(["m"]) is None
    b.record(["m"], QuotaExceeded("out of credits"))  # opens at once
    assert b.blocked(["m"]) is not None
    time.sleep(0.15)
    assert b.blocked(["m"]) is None
    b.record(["m"], Transient("still down"))
    assert "circuit open until" in (b.blocked(["m"]) or "")


def test_error_rate_over_the_window_opens(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, breaker_failures=100, breaker_window=10, breaker_error_rate=0.5
    )
    b = Breakers(InMemoryState(), settings)
    for ok in (True, False, True, False, False, True, False, False, True, False):
        b.record(["m"], None if ok else Transient("x"))
    assert b.blocked(["m"]) is not None  # 6 of 10 failed, never 3 in a row


async def test_open_breaker_is_excluded_by_the_router(
    fake_settings: Settings, tmp_path: Path
) -> None:
    fake_settings.breaker_failures = 3
    h: Harness = build(fake_settings)
    text = """
name: brk
retry: {attempts: 3, backoff_s: 0}
steps:
  - id: img
    task: text-to-image
    prompt: {subject: x, style: photo, lighting: soft, composition: centered,
             perspective: eye level}
    params: {fail_rate: 1, fail_model: fake/image-a}
    route: {exclude: [fake-remote], policy: fastest}
"""
    outcome = await h.runner.run(h.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded"  # on the fallback
    router = Router(h.runner.catalog, h.registry.check, fake_settings, state=h.store.state)
    decision = router.plan(h.spec(text)).decisions["img"]
    excluded = decision.candidate("fake/image-a").excluded
    assert excluded is not None and excluded.code == "circuit_open"
    assert "circuit open until" in excluded.reason
    assert decision.chosen == "fake/image-b@1"
    await h.registry.aclose()
