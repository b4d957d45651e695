"""Crash-resume: `podium run` on a pipeline with local and fake-remote steps is SIGKILLed at 20+
random moments (some while it waits on a remote job) and resumed with `podium resume` each
time. Every run finishes, no finished step is redone, the fake remote counts exactly one submit
per idempotency key, no artifact is lost or corrupt, and a step walking its fallback chain
(its primary's jobs fail after acceptance) never pays its primary for more tries than it has."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podium.media.verify import verify_output
from podium.settings import Settings
from podium.store.open import Store, open_store
from podium.testing.fake_remote import FakeRemoteServer

SPEC = """
name: crash
inputs:
  product: Lemon soda
steps:
  - id: script
    task: text
    prompt: "Meet ${inputs.product}."
    route: {pin: local/template}
  - id: img
    task: text-to-image
    prompt: {subject: "${steps.script.output}", style: photo, lighting: soft,
             composition: centered, perspective: eye level}
    variants: {count: 3}
    params: {latency_s: 0.4}
    route: {pin: fake-remote/image-a}
  - id: voice
    task: text-to-speech
    prompt: {text: "${steps.script.output}"}
    params: {latency_s: 0.3}
    route: {pin: fake/speech-a}
  - id: clip
    task: text-to-video
    prompt: {subject: a can, action: spin, camera: orbit, duration_s: 1}
    inputs: {first_frame: "${steps.img.outputs[0]}"}
    params: {latency_s: 0.5}
    route: {pin: fake-remote/video}
  - id: cut
    task: compose-video
    inputs: {shots: "${steps.clip.outputs}", audio: "${steps.voice.output}"}
    params: {latency_s: 0.2}
    route: {pin: fake/compose-a}
  - id: poster
    task: text-to-image
    prompt: {subject: a poster, style: photo, lighting: soft, composition: centered,
             perspective: eye level}
    params: {latency_s: 0.3, fail_rate: 1, fail_mode: after_accept,
             fail_model: fake-remote/image-a}
    retry: {attempts: 2, backoff_s: 0.2, max_backoff_s: 0.2}
    cache: false
    route: {exclude: [fake, local], policy: fastest, fallbacks: 1}
"""
PRIMARY = "fake-remote/image-a@1"  # poster's primary: its jobs fail after acceptance
KILLS = 20
DRIVER = Path(__file__).with_name("crash_driver.py")


def spawn(
    spec: Path, product: str, run_id: str | None, env: dict[str, str], out: Path
) -> subprocess.Popen[bytes]:
    """Start the driver; stdout goes to a file (a pipe would outlive a killed run's workers)."""
    args = [sys.executable, str(DRIVER), str(spec), product, *([run_id] if run_id else [])]
    with open(out, "wb") as fh:
        return subprocess.Popen(args, env=env, stdout=fh, stderr=subprocess.DEVNULL)


def finished_steps(store: Store, run_id: str) -> dict[str, tuple[float | None, tuple[str, ...]]]:
    """Finished step keys -> (finished_at, outputs), read from the journal on disk."""
    return {
        s.key: (s.finished_at, s.outputs)
        for s in store.journal.steps(run_id)
        if s.status == "succeeded"
    }


def working_run(store: Store, product: str, since: float) -> str | None:
    """The run of ``product`` once a process has (re)started it after ``since``."""
    for run in store.journal.list_runs("crash", limit=3):
        if run.inputs.get("product") == product and run.updated_at >= since:
            return run.run_id
    return None


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_sigkill_and_resume(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "crash.yaml"
    spec.write_text(SPEC)
    rng = random.Random(7)
    kills = 0
    while_waiting_remote = 0
    finished: list[str] = []
    store = open_store(Settings(home=podium_home))
    with FakeRemoteServer() as server:
        env = {
            **os.environ,
            "PODIUM_HOME": str(podium_home),
            "PODIUM_ENABLE_FAKE": "1",
            "PODIUM_FAKE_REMOTE_URL": server.url,
            "PODIUM_WORKERS": "1",
            # poster's primary stays its primary in every run: its failures open no breaker
            # and never outweigh its priors
            "PODIUM_BREAKER_FAILURES": "1000000",
            "PODIUM_BREAKER_ERROR_RATE": "1.0",
            "PODIUM_MIN_SAMPLES": "1000000",
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # let the 20+ children share compiled code
        n = 0
        while kills < KILLS:
            n += 1
            product, run_id = f"P{n}", None
            frozen: dict[str, tuple[float | None, tuple[str, ...]]] = {}
            while True:
                since = time.time()
                out_file = tmp_path / "out.json"
                proc = spawn(spec, product, run_id, env, out_file)
                deadline = time.monotonic() + 20
                while proc.poll() is None and time.monotonic() < deadline:
                    run_id = working_run(store, product, since) or run_id
                    if run_id and store.journal.get_run(run_id).updated_at >= since:
                        break
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 0.8))  # a random moment of the run's work
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    assert run_id is not None
                    while_waiting_remote += any(
                        a.status == "running" and a.request_id
                        for a in store.journal.attempts(run_id)
                    )
                    now = finished_steps(store, run_id)
                    for key, value in frozen.items():  # a finished step is never redone
                        assert now[key] == value, f"finished step {key} was redone"
                    frozen = now
                    continue
                proc.wait()
                assert proc.returncode == 0, f"the run exited {proc.returncode}"
                doc = json.loads(out_file.read_text())
                assert doc["status"] == "succeeded"
                now = finished_steps(store, doc["run_id"])
                for key, value in frozen.items():
                    assert now[key] == value, f"finished step {key} was redone"
                finished.append(doc["run_id"])
                break
        counts = server.counts()["submits"]
    assert kills >= KILLS and finished
    assert while_waiting_remote >= 1
    assert counts and set(counts.values()) == {1}, counts  # one submit per idempotency key
    for run_id in finished:
        run = store.journal.get_run(run_id)
        assert run.status == "succeeded"
        remote = [a for a in store.journal.attempts(run_id) if a.request_id]
        assert remote and all(counts.get(a.idempotency_key) == 1 for a in remote)
        for step in store.journal.steps(run_id):
            for sha in step.outputs:
                assert store.artifacts.exists(sha)  # present and matching its hash
        video = Path(run.out_dir or "") / "cut.mp4"
        assert verify_output(video, "video")["duration_s"] > 0
        # poster's chain goes on from where it stopped: its primary is never paid for more
        # than its 2 tries, however many times the run was killed, and its fallback delivers
        poster = [a for a in store.journal.attempts(run_id, "poster") if a.model == PRIMARY]
        assert 1 <= len([a for a in poster if a.status == "failed"]) <= 2, poster
        assert (Path(run.out_dir or "") / "poster.png").exists()
    store.close()
