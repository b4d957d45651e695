"""The fault matrix: each fault a remote provider can throw behaves as specified, and the ledger
says why. Faults are injected by the fake-remote queue server (its own process) on the primary
model only, so a fallback to the second model shows in the ledger."""

from __future__ import annotations

import dataclasses
import itertools
import socket
import time
from pathlib import Path

import httpx
import pytest

from podium.settings import Settings
from podium.store.records import AttemptRecord
from podium.testing.fake_remote import FakeRemoteServer

from .conftest import Harness, build

A = "fake-remote/image-a@1"
B = "fake-remote/image-b@1"


def pipeline(kind: str, mode: str, *, timeout: float = 2.0, extra: str = "") -> str:
    """One image step on the fake remote: the primary fails as asked, the fallback works."""
    return f"""
name: faults
retry: {{attempts: 3, backoff_s: 0.01, max_backoff_s: 0.05}}
steps:
  - id: img
    task: text-to-image
    prompt: {{subject: a can, style: photo, lighting: soft, composition: centered,
              perspective: eye level}}
    params: {{latency_s: 0.05, fail_rate: 1, fail_kind: {kind}, fail_mode: {mode},
              fail_model: fake-remote/image-a, cost_usd: 0.01 {extra}}}
    timeout_s: {timeout}
    route: {{exclude: [fake], policy: fastest, fallbacks: 1}}
"""


async def run(
    h: Harness, text: str, tmp_path: Path
) -> tuple[str, str, list[tuple[str, str, str | None]]]:
    outcome = await h.runner.run(h.spec(text), out_dir=tmp_path / "out")
    return outcome.run_id, outcome.status, h.attempts(outcome.run_id)


async def test_5xx_is_retried_then_falls_back(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    _, status, ledger = await run(harness, pipeline("transient", "submit"), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "failed", "transient")] * 3 + [(B, "succeeded", None)]


async def test_429_waits_for_retry_after(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    text = pipeline("transient", "submit", extra=", retry_after_s: 0.3")
    run_id, status, _ledger = await run(harness, text, tmp_path)
    assert status == "succeeded"
    starts = [a.started_at for a in harness.store.journal.attempts(run_id) if a.model == A]
    assert len(starts) == 3
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.3  # Retry-After honoured, not the 10 ms backoff
    errors = [a.error for a in harness.store.journal.attempts(run_id) if a.model == A]
    assert all("429" in (e or "") for e in errors)


async def test_retry_after_is_capped_by_settings(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    harness.settings.max_retry_after_s = 0.05
    text = pipeline("transient", "submit", extra=", retry_after_s: 30")
    t0 = time.monotonic()
    _, status, _ = await run(harness, text, tmp_path)
    assert status == "succeeded"
    assert time.monotonic() - t0 < 5  # a 30 s Retry-After was capped


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connect_failure_is_transient(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PODIUM_FAKE_REMOTE_URL", f"http://127.0.0.1:{_closed_port()}")
    run_id, status, ledger = await run(harness, pipeline("transient", "submit"), tmp_path)
    assert status == "failed"
    # every attempt on both models: a connect failure, retried as transient
    assert {code for _, _, code in ledger} <= {"transient", "unavailable"}
    assert [m for m, _, code in ledger if code == "transient"][:3] == [A, A, A]
    assert "ConnectError" in (harness.store.journal.attempts(run_id)[0].error or "")


@pytest.mark.parametrize(("kind", "mode"), [("transient", "read_timeout"), ("timeout", "submit")])
async def test_read_timeout_falls_back_without_retry(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path, kind: str, mode: str
) -> None:
    _, status, ledger = await run(harness, pipeline(kind, mode, timeout=0.5), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "failed", "timeout"), (B, "succeeded", None)]


async def test_a_crashing_server_is_a_transient_5xx(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    _, status, ledger = await run(harness, pipeline("crash", "submit"), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "failed", "transient")] * 3 + [(B, "succeeded", None)]


async def test_job_that_never_finishes_times_out_and_is_cancelled(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    before = remote.counts()["cancels"]
    run_id, status, ledger = await run(
        harness, pipeline("transient", "never_finish", timeout=0.5), tmp_path
    )
    assert status == "succeeded"
    assert ledger == [(A, "failed", "timeout"), (B, "succeeded", None)]
    assert harness.store.journal.attempts(run_id)[0].request_id  # it had been accepted
    assert remote.counts()["cancels"] == before + 1  # and was cancelled remotely


async def test_corrupt_bytes_are_bad_output_and_fall_back(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    run_id, status, ledger = await run(harness, pipeline("bad_output", "corrupt"), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "failed", "bad_output"), (B, "succeeded", None)]
    assert "not a decodable image" in (harness.store.journal.attempts(run_id)[0].error or "")


async def test_refusal_is_not_retried(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    _, status, ledger = await run(harness, pipeline("refused", "submit"), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "failed", "refused"), (B, "succeeded", None)]


async def test_invalid_input_fails_fast_without_fallback(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    outcome = await harness.runner.run(
        harness.spec(pipeline("invalid_input", "submit")), out_dir=tmp_path
    )
    assert outcome.status == "failed"
    assert harness.attempts(outcome.run_id) == [(A, "failed", "invalid_input")]
    assert "step img" in outcome.errors["img"] and "400" in outcome.errors["img"]


async def test_job_failing_after_acceptance_falls_back(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    run_id, status, ledger = await run(harness, pipeline("transient", "after_accept"), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "failed", "transient")] * 3 + [(B, "succeeded", None)]
    for attempt in harness.store.journal.attempts(run_id)[:3]:
        assert attempt.request_id and "after acceptance" in (attempt.error or "")


async def test_quota_opens_the_provider_breaker(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    outcome = await harness.runner.run(
        harness.spec(pipeline("quota_exceeded", "after_accept")), out_dir=tmp_path
    )
    assert outcome.status == "failed"
    assert harness.attempts(outcome.run_id)[0] == (A, "failed", "quota_exceeded")
    assert "provider:fake-remote: circuit open until" in outcome.errors["img"]
    assert harness.store.state.breaker("provider:fake-remote").state == "open"


async def test_lost_submit_response_is_found_not_resubmitted(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    run_id, status, ledger = await run(harness, pipeline("transient", "lost_response"), tmp_path)
    assert status == "succeeded"
    assert ledger == [(A, "succeeded", None)]  # the job made by the lost POST was found
    key = harness.store.journal.attempts(run_id)[0].idempotency_key
    assert remote.counts()["submits"][key] == 1


async def test_connect_timeout_is_transient(
    fake_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a listening socket whose accept queue is full: the SYN goes unanswered, connect times out
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    monkeypatch.setenv("PODIUM_FAKE_REMOTE_URL", f"http://127.0.0.1:{port}")
    h = build(
        fake_settings,
        client_factory=lambda name: httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=0.2)),
    )
    try:
        t0 = time.monotonic()
        outcome = await h.runner.run(h.spec(pipeline("transient", "submit")), out_dir=tmp_path)
        assert outcome.status == "failed" and time.monotonic() - t0 < 10
        first = h.store.journal.attempts(outcome.run_id)[0]
        assert (first.model, first.error_code) == (A, "transient")
        assert "ConnectTimeout" in (first.error or "")
    finally:
        await h.registry.aclose()
        for s in fillers:
            s.close()
        server.close()


def stopped_while_open(h: Harness, run_id: str, *attempts: AttemptRecord) -> None:
    """Rewrite a finished run as if its process had died with ``attempts`` in flight."""
    journal = h.store.journal
    for a in attempts:
        journal.put_attempt(
            dataclasses.replace(
                a, status="running", outputs=(), finished_at=None, cost_usd=0.0, latency_s=None
            )
        )
    (step,) = journal.steps(run_id)
    journal.put_step(dataclasses.replace(step, status="running", outputs=(), finished_at=None))
    journal.update_run(run_id, status="interrupted")


async def test_resume_goes_on_from_the_fallback_it_had_reached(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    # the primary used all its retries and the fallback's job was in flight when the run died:
    # a resume polls that job, and never pays for the primary's attempts again
    text = pipeline("transient", "submit").replace(
        "    timeout_s:", "    cache: false\n    timeout_s:"
    )
    run_id, status, ledger = await run(harness, text, tmp_path)
    assert status == "succeeded" and ledger[-1] == (B, "succeeded", None)
    fallback = harness.store.journal.attempts(run_id)[-1]
    stopped_while_open(harness, run_id, fallback)
    again = await harness.runner.run(
        harness.spec(text), resume_run_id=run_id, out_dir=tmp_path / "out"
    )
    assert again.status == "succeeded", again.errors
    assert harness.attempts(run_id) == [(A, "failed", "transient")] * 3 + [(B, "succeeded", None)]
    assert remote.counts()["submits"][fallback.idempotency_key] == 1


async def test_resume_cancels_a_job_it_does_not_take_up_again(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    # the primary and its hedge were both in flight when the run died; the primary's job is
    # polled and wins at once, so the hedge's job is cancelled and ledgered, not left running
    text = (
        pipeline("transient", "submit")
        .replace("fail_rate: 1", "fail_rate: 0")
        .replace("    timeout_s:", "    cache: false\n    timeout_s:")
    )
    run_id, status, ledger = await run(harness, text, tmp_path)
    assert status == "succeeded" and ledger == [(A, "succeeded", None)]
    other = text.replace("exclude: [fake], policy: fastest, fallbacks: 1", f"pin: {B}")
    other_id, other_status, _ = await run(
        harness, other.replace("name: faults", "name: b"), tmp_path
    )
    assert other_status == "succeeded"
    (primary,) = harness.store.journal.attempts(run_id)
    (b_job,) = harness.store.journal.attempts(other_id)
    hedge = dataclasses.replace(
        b_job, attempt_id=f"{run_id}:img:hedge", run_id=run_id, step_key="img", hedge=True
    )
    stopped_while_open(harness, run_id, primary, hedge)
    cancels = remote.counts()["cancels"]
    again = await harness.runner.run(
        harness.spec(text), resume_run_id=run_id, out_dir=tmp_path / "out"
    )
    assert again.status == "succeeded", again.errors
    ledger = {a.model: a for a in harness.store.journal.attempts(run_id)}
    assert ledger[A].status == "succeeded"
    assert remote.counts()["submits"][primary.idempotency_key] == 1
    assert ledger[B].status == "cancelled" and "left open" in (ledger[B].error or "")
    assert remote.counts()["cancels"] == cancels + 1
    assert ledger[B].cost_usd == pytest.approx(0.01)  # accepted: it may still be billed
    assert again.cost_usd == pytest.approx(0.02)


async def test_resume_keeps_to_the_retries_left(
    fake_settings: Settings, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    # stopped (Ctrl-C) after the primary's first transient failure: a resume gives it the two
    # tries it had left, not three more, then falls back (breakers kept shut: they would stop
    # the primary on their own)
    h = build(fake_settings.model_copy(update={"breaker_failures": 100, "breaker_window": 1000}))
    text = pipeline("transient", "submit").replace(
        "    timeout_s:", "    cache: false\n    timeout_s:"
    )
    try:
        run_id, status, _ = await run(h, text, tmp_path)
        assert status == "succeeded"
        journal = h.store.journal
        for a in journal.attempts(run_id)[1:]:
            journal.put_attempt(dataclasses.replace(a, status="cancelled", error_code="cancelled"))
        (step,) = journal.steps(run_id)
        journal.put_step(dataclasses.replace(step, status="cancelled", outputs=()))
        journal.update_run(run_id, status="cancelled")
        again = await h.runner.run(h.spec(text), resume_run_id=run_id, out_dir=tmp_path / "out")
        assert again.status == "succeeded", again.errors
        ledger = h.attempts(run_id)
        assert ledger.count((A, "failed", "transient")) == 3
        assert ledger[-1] == (B, "succeeded", None)
    finally:
        await h.registry.aclose()
        h.store.close()


async def test_resume_of_a_unit_whose_models_had_all_failed_pays_nothing_more(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    text = pipeline("refused", "submit").replace("fallbacks: 1", "fallbacks: 0")
    run_id, status, ledger = await run(harness, text, tmp_path)
    assert status == "failed" and ledger == [(A, "failed", "refused")]
    journal = harness.store.journal
    (step,) = journal.steps(run_id)  # as if it died before the step's failure was written
    journal.put_step(dataclasses.replace(step, status="running", error=None, error_code=None))
    journal.update_run(run_id, status="interrupted")
    again = await harness.runner.run(
        harness.spec(text), resume_run_id=run_id, out_dir=tmp_path / "out"
    )
    assert again.status == "failed"
    assert "every model had failed before the run stopped" in again.errors["img"]
    assert harness.attempts(run_id) == [(A, "failed", "refused")]


async def test_a_remote_hedge_loser_is_cancelled_at_the_vendor_and_ledgered(
    harness: Harness, remote: FakeRemoteServer, tmp_path: Path
) -> None:
    # the primary's job never finishes; after 0.2 s the fallback is hedged in and wins
    before = remote.counts()["cancels"]
    text = pipeline("transient", "never_finish", timeout=30).replace(
        "fallbacks: 1}", "fallbacks: 1, hedge_after_s: 0.2}"
    )
    t0 = time.monotonic()
    run_id, status, _ = await run(harness, text, tmp_path)
    assert status == "succeeded" and time.monotonic() - t0 < 5
    by_model = {a.model: a for a in harness.store.journal.attempts(run_id)}
    assert by_model[A].status == "cancelled" and by_model[A].request_id
    assert by_model[B].status == "succeeded" and by_model[B].hedge
    assert remote.counts()["cancels"] == before + 1  # the loser's job stopped at the vendor
    assert sum(a.cost_usd for a in by_model.values()) == pytest.approx(0.02)  # both ledgered
