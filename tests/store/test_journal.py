"""The journal contract, against the in-memory and the SQLite journal alike."""

from __future__ import annotations

import statistics
import time

import pytest

from podium.store.open import Store
from podium.store.records import BreakerState
from tests.store.records import attempt, run, step


def test_runs_by_prefix_newest_first_and_filtered(store: Store) -> None:
    j = store.journal
    j.create_run(run("abc123", pipeline="promo", created_at=100.0))
    j.create_run(run("abd456", pipeline="promo", created_at=200.0))
    j.create_run(run("xyz789", pipeline="teaser", created_at=300.0))
    assert [r.run_id for r in j.list_runs()] == ["xyz789", "abd456", "abc123"]
    assert [r.run_id for r in j.list_runs(pipeline="promo", limit=1)] == ["abd456"]
    assert j.get_run("abc").run_id == "abc123"
    with pytest.raises(KeyError, match="ambiguous"):
        j.get_run("ab")
    with pytest.raises(KeyError, match="no run 'nope'"):
        j.get_run("nope")
    with pytest.raises(ValueError, match="already exists"):
        j.create_run(run("abc123"))


def test_run_status_reads_the_status_alone(store: Store) -> None:
    j = store.journal
    j.create_run(run("abc123"))
    j.update_run("abc123", status="cancelling", plan={"steps": [{"id": "a"}] * 100})
    assert j.run_status("abc123") == "cancelling"
    assert j.run_status("abc") == "cancelling"  # a unique prefix, as get_run takes
    with pytest.raises(KeyError, match="no run 'nope'"):
        j.run_status("nope")


def test_listings_and_plan_false_leave_the_plan_document_unread(store: Store) -> None:
    j = store.journal
    j.create_run(run("abc123", inputs={"product": "mug"}))
    doc = {"steps": [{"id": "a"}] * 100, "seed": 7}
    j.update_run("abc123", status="succeeded", cost_usd=0.5, plan=doc)
    assert j.get_run("abc123").plan == doc
    bare = j.get_run("abc", plan=False)
    assert bare.plan == {}
    assert (bare.run_id, bare.status, bare.cost_usd) == ("abc123", "succeeded", 0.5)
    assert bare.inputs == {"product": "mug"}
    (listed,) = j.list_runs()
    assert listed.plan == {} and listed.status == "succeeded"
    assert j.get_run("abc123").plan == doc  # the listing did not change the record


def test_update_run_changes_only_named_fields(store: Store) -> None:
    j = store.journal
    j.create_run(run("r1", inputs={"product": "mug"}, budget_usd=2.0))
    j.update_run("r1", status="succeeded", cost_usd=0.25, wall_s=3.5, plan={"steps": []})
    got = j.get_run("r1")
    assert (got.status, got.cost_usd, got.wall_s) == ("succeeded", 0.25, 3.5)
    assert got.inputs == {"product": "mug"} and got.budget_usd == 2.0
    assert got.plan == {"steps": []}
    assert got.updated_at >= got.created_at
    with pytest.raises(TypeError, match="statuss"):
        j.update_run("r1", statuss="failed")


def test_steps_keep_first_written_order_through_updates(store: Store) -> None:
    j = store.journal
    j.create_run(run("r1"))
    for key in ("script", "image[0]", "image[1]", "voice"):
        j.put_step(step("r1", key, status="running"))
    j.put_step(step("r1", "image[0]", status="succeeded", outputs=("a" * 64,), cost_usd=0.1))
    got = j.steps("r1")
    assert [s.key for s in got] == ["script", "image[0]", "image[1]", "voice"]
    assert got[1].status == "succeeded" and got[1].outputs == ("a" * 64,)
    assert got[1].step_id == "image"
    assert j.steps("other") == []


def test_attempts_round_trip_and_lookup_by_idempotency_key(store: Store) -> None:
    j = store.journal
    t0 = time.time()
    j.put_attempt(attempt("a2", started_at=t0 + 1, step_key="voice"))
    j.put_attempt(
        attempt(
            "a1",
            started_at=t0,
            status="submitted",
            finished_at=None,
            request_id="req-7",
            state={"poll": "https://x/7"},
            reserved_usd=0.5,
            metadata={"hedge_of": None},
        )
    )
    assert [a.attempt_id for a in j.attempts("run1")] == ["a1", "a2"]
    assert [a.attempt_id for a in j.attempts("run1", "voice")] == ["a2"]
    found = j.attempt_by_key("idem-a1")
    assert found is not None and found.request_id == "req-7"
    assert found.state == {"poll": "https://x/7"} and found.finished_at is None
    j.put_attempt(
        attempt("a1", started_at=t0, status="succeeded", cost_usd=0.4, outputs=("b" * 64,))
    )
    again = j.attempt_by_key("idem-a1")
    assert again is not None and again.status == "succeeded" and again.outputs == ("b" * 64,)
    assert j.attempt_by_key("missing") is None


def test_observed_uses_last_window_of_finished_uncached_attempts(store: Store) -> None:
    j = store.journal
    t0 = time.time() - 1000
    latencies = [0.1 * (i + 1) for i in range(30)]
    for i, lat in enumerate(latencies):
        j.put_attempt(attempt(f"ok{i}", started_at=t0 + i, latency_s=lat, cost_usd=0.02))
    for i in range(10):  # newer failures
        j.put_attempt(
            attempt(f"bad{i}", started_at=t0 + 100 + i, status="failed", error_code="transient")
        )
    # none of these may count: cache hits, still open, cancelled, the user's fault
    j.put_attempt(attempt("hit", started_at=t0 + 200, cache_hit=True, latency_s=0.0))
    j.put_attempt(attempt("open", started_at=t0 + 201, status="running", finished_at=None))
    j.put_attempt(attempt("cx", started_at=t0 + 202, status="cancelled"))
    j.put_attempt(attempt("user", started_at=t0 + 203, status="failed", error_code="invalid_input"))
    j.put_attempt(attempt("other", started_at=t0, model="fake/other@1", latency_s=9.0))

    whole = j.observed("fake/image@1")
    assert whole.samples == 40
    assert whole.error_rate == pytest.approx(10 / 40)
    assert whole.latency_p50_s == pytest.approx(statistics.median(latencies))
    assert whole.latency_p95_s == pytest.approx(statistics.quantiles(latencies, n=20)[-1], 0.05)
    assert whole.mean_cost_usd == pytest.approx(0.02)

    recent = j.observed("fake/image@1", window=20)  # the 10 failures and the 10 slowest
    assert recent.samples == 20 and recent.error_rate == pytest.approx(0.5)
    assert recent.latency_p50_s == pytest.approx(statistics.median(latencies[-10:]))
    assert j.observed("fake/image").samples == 40  # any version
    assert j.observed("provider:fake").samples == 41
    assert j.observed("nobody/none").samples == 0


def test_spent_counts_window_pipeline_and_open_reservations(store: Store) -> None:
    j = store.journal
    now = time.time()
    j.create_run(run("p1", pipeline="promo"))
    j.create_run(run("t1", pipeline="teaser"))
    j.put_attempt(attempt("old", "p1", started_at=now - 90_000, cost_usd=5.0))
    j.put_attempt(attempt("a", "p1", started_at=now - 10, cost_usd=0.25))
    j.put_attempt(
        attempt(
            "open",
            "p1",
            started_at=now - 5,
            status="running",
            finished_at=None,
            reserved_usd=0.75,
        )
    )
    j.put_attempt(attempt("b", "t1", started_at=now - 10, cost_usd=0.5, reserved_usd=2.0))
    day = now - 86_400
    assert j.spent(day) == pytest.approx(0.25 + 0.75 + 0.5)
    assert j.spent(day, pipeline="promo") == pytest.approx(1.0)
    assert j.spent(day, pipeline="teaser") == pytest.approx(0.5)
    assert j.spent(0) == pytest.approx(6.5)
    assert j.spent(now + 1) == 0.0


def test_cache_counts_hits_and_bytes_saved(store: Store, tmp_path: object) -> None:
    from pathlib import Path

    src = Path(str(tmp_path)) / "out.png"
    src.write_bytes(b"x" * 1000)
    rec = store.artifacts.put(src, "image")
    cache = store.cache
    assert cache.get("k1") is None
    cache.put("k1", [rec.sha256], "fake/image@1")
    assert cache.get("k1") == (rec.sha256,)
    assert cache.get("k1") == (rec.sha256,)
    stats = cache.stats()
    assert (stats["entries"], stats["hits"], stats["bytes"], stats["bytes_saved"]) == (
        1,
        2,
        1000,
        2000,
    )
    assert [e[0] for e in cache.entries()] == ["k1"]
    cache.remove("k1")
    assert cache.get("k1") is None and cache.stats()["entries"] == 0


def test_breakers_persist(store: Store) -> None:
    state = store.state
    assert state.breaker("fake/image@1").state == "closed"
    until = time.time() + 30
    state.put_breaker(BreakerState("fake/image@1", "open", 5, until, (True, False, False)))
    state.put_breaker(BreakerState("provider:fal", "half_open", 1, None, (False,)))
    got = state.breaker("fake/image@1")
    assert (got.state, got.consecutive_failures, got.opened_until) == ("open", 5, until)
    assert got.recent == (True, False, False)
    assert [b.key for b in state.breakers()] == ["fake/image@1", "provider:fal"]
