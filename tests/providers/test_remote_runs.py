"""Remote providers under the real runner: a SIGKILL between submit and result resumes by polling
the same request id, and a model that fails after acceptance falls back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podium.settings import Settings
from podium.store.open import open_store
from podium.testing.servers import serve
from tests.providers.conftest import KEYS

DRIVER = Path(__file__).with_name("remote_driver.py")
ONE_IMAGE = """
name: remote-one
steps:
  - id: hero
    task: text-to-image
    prompt: {{subject: a lemon soda can, style: photo}}
    params: {{width: 96, height: 64}}
    route: {{pin: {pin}}}
"""


def env_for(podium_home: Path, **urls: str) -> dict[str, str]:
    env = {**os.environ, **KEYS, "PODIUM_HOME": str(podium_home), "PODIUM_WORKERS": "1"}
    env.update({f"PODIUM_{k.upper()}_URL": v for k, v in urls.items()})
    return env


def spawn(spec: Path, out: Path, run_id: str | None, env: dict[str, str]) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        str(DRIVER),
        str(spec),
        str(out / "files"),
        *([run_id] if run_id else []),
    ]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("provider", "pin", "answered"),
    [
        ("fal", "fal/flux-schnell", True),
        ("replicate", "replicate/flux-dev", True),
        # the shipped Replicate card creates with ``Prefer: wait``: the kill lands while the
        # create is still open, so resume must *find* the prediction by Podium's marker
        ("replicate", "replicate/flux-schnell", False),
    ],
)
def test_sigkill_between_submit_and_result_resumes_by_request_id(
    provider: str, pin: str, answered: bool, tmp_path: Path, podium_home: Path
) -> None:
    spec = tmp_path / "one.yaml"
    spec.write_text(ONE_IMAGE.format(pin=pin))
    with serve(provider) as server:
        server.faults.queue_s, server.faults.run_s = 0.05, 1.5
        env = env_for(podium_home, **{provider: server.url})
        proc = spawn(spec, tmp_path, None, env)
        deadline = time.monotonic() + 60
        while server.stats.to_dict()["creates_total"] < 1:
            if proc.poll() is not None:
                pytest.fail(f"the runner exited early: {proc.communicate()[1][-2000:]}")
            assert time.monotonic() < deadline, "the runner never submitted"
            time.sleep(0.02)
        poll_route = "status" if provider == "fal" else "get"
        if answered:
            # the first poll comes after the request id was journaled: kill it mid-wait
            while server.stats.requests[poll_route] < 1:
                assert proc.poll() is None and time.monotonic() < deadline, "it never polled"
                time.sleep(0.01)
        else:
            time.sleep(0.2)  # the Prefer: wait create stays open for the whole run (1.5 s)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()  # reap it and close its pipes
        store = open_store(Settings(home=podium_home))
        (run,) = store.journal.list_runs("remote-one", limit=5)
        (attempt,) = store.journal.attempts(run.run_id)
        if answered:  # the request id was journaled before the runner waited
            assert attempt.status == "running" and attempt.request_id
        else:
            assert attempt.status == "submitted" and attempt.request_id is None
        store.close()

        polls_before = server.stats.requests[poll_route]
        resumed = spawn(spec, tmp_path, run.run_id, env)
        out, err = resumed.communicate(timeout=90)
        assert resumed.returncode == 0, err[-2000:]
        doc = json.loads(out.strip().splitlines()[-1])
        stats = server.stats.to_dict()
    assert doc["status"] == "succeeded"
    assert stats["creates_total"] == 1  # resumed by polling, never paid twice
    assert set(stats["creates"].values()) == {1}
    assert server.stats.requests[poll_route] > polls_before
    store = open_store(Settings(home=podium_home))
    attempts = store.journal.attempts(run.run_id)
    (job_id,) = server.jobs  # type: ignore[attr-defined]
    assert [a.request_id for a in attempts if a.status == "succeeded"] == [job_id]
    store.close()
    (output,) = doc["outputs"]
    assert Path(output["path"]).stat().st_size > 0


FALLBACK = """
name: remote-fallback
steps:
  - id: hero
    task: text-to-image
    prompt: {subject: a lemon soda can, style: photo}
    params: {width: 96, height: 64}
    retry: {attempts: 1}
    route:
      policy: fastest
      exclude: [local, fake, fake-remote, openai, comfyui, diffusers, fal/flux-dev, fal/flux-pro,
                replicate/flux-dev]
"""


@pytest.mark.timeout(120)
def test_failure_after_acceptance_falls_back_and_the_summary_shows_both(
    tmp_path: Path, podium_home: Path
) -> None:
    spec = tmp_path / "fallback.yaml"
    spec.write_text(FALLBACK)
    with serve("fal") as fal, serve("replicate") as replicate:
        fal.faults.fail_after_accept = True
        env = env_for(podium_home, fal=fal.url, replicate=replicate.url)
        proc = spawn(spec, tmp_path, None, env)
        out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err[-2000:]
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["status"] == "succeeded"
    assert fal.stats.to_dict()["creates_total"] == 1  # accepted, then failed
    assert replicate.stats.to_dict()["creates_total"] == 1
    summary = json.loads(Path(doc["summary"]).read_text())
    # attempts are listed per step (or, in older summaries, for the whole run)
    listed = summary.get("attempts") or [a for st in summary["steps"] for a in st["attempts"]]
    attempts = {a["provider"]: a for a in listed}
    failed, fallback = attempts["fal"], attempts["replicate"]
    assert failed["status"] == "failed" and failed["request_id"]  # it was accepted first
    assert failed["error_code"] == "transient"
    assert "runner_disconnected" in failed["error"]
    assert fallback["status"] == "succeeded"
    # both costs are recorded: fal bills nothing for a server error, the fallback its price
    assert failed["cost_usd"] == 0.0
    assert fallback["cost_usd"] == pytest.approx(0.003)
    total = (summary.get("totals") or summary["run"])["cost_usd"]
    assert total == pytest.approx(0.003)
    (step,) = summary["steps"]
    assert step["model"].startswith("replicate/flux-schnell")
    assert [a["provider"] for a in listed] == ["fal", "replicate"]  # in that order
    assert_no_secret_written(podium_home, tmp_path, out + err)


def assert_no_secret_written(*places: Path | str) -> None:
    """No key value in any file Podium wrote (journal, ledger, store, summaries, outputs) nor
    in what it printed."""
    scanned = 0
    for place in places:
        if isinstance(place, str):
            blobs = [place.encode()]
        else:
            blobs = [p.read_bytes() for p in place.rglob("*") if p.is_file()]
        for blob in blobs:
            scanned += 1
            for value in KEYS.values():
                assert value.encode() not in blob
    assert scanned > 3
