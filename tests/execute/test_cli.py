"""`podium run`, `podium resume` and `podium cancel` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from podium.settings import Settings
from podium.store.open import Store, open_store
from podium.testing.fake_remote import FakeRemoteServer

FIELDS = "style: photo, lighting: soft, composition: centered, perspective: eye level"
SPEC = f"""
name: cli
steps:
  - {{id: quick, task: text, prompt: hello, route: {{pin: fake/text-a}}}}
  - id: slow
    task: text-to-image
    prompt: {{subject: "${{steps.quick.output}}", {FIELDS}}}
    params: {{latency_s: SLOW}}
    route: {{pin: fake/image-a}}
"""


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "PODIUM_HOME": str(home), "PODIUM_ENABLE_FAKE": "1"}


def podium(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from podium.cli import main; main()", *args]
    return subprocess.run(cmd, env=env(home), cwd=cwd, capture_output=True, text=True, timeout=60)


def start(*args: str, home: Path, cwd: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-c", "from podium.cli import main; main()", *args]
    return subprocess.Popen(cmd, env=env(home), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def wait_for_run(
    home: Path, reached: Callable[[Store, str], bool], what: str, timeout: float = 20
) -> str:
    """The newest run's id once ``reached(store, run_id)`` holds in the journal on disk."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (home / "podium.db").exists():
            with open_store(Settings(home=home)) as store:
                for run in store.journal.list_runs(limit=1):
                    if reached(store, run.run_id):
                        return run.run_id
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened")


def wait_for_step(home: Path, key: str, status: str) -> str:
    """The run id once step ``key`` reached ``status`` in the journal."""
    return wait_for_run(
        home,
        lambda store, run_id: any(
            s.key == key and s.status == status for s in store.journal.steps(run_id)
        ),
        f"step {key} reaching {status}",
    )


def test_run_json_is_one_document_and_writes_the_out_dir(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "cli.yaml"
    spec.write_text(SPEC.replace("SLOW", "0"))
    proc = podium("run", str(spec), "--json", home=podium_home, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert set(doc) == {"run_id", "status", "out_dir", "summary", "outputs", "cost_usd", "wall_s"}
    assert doc["status"] == "succeeded"
    out = Path(doc["out_dir"])
    assert out == tmp_path / "podium-out" / "cli" / doc["run_id"]
    assert (out / "summary.json").exists() and (out / "summary.html").exists()
    assert sorted(Path(o["path"]).name for o in doc["outputs"]) == ["quick.txt", "slow.png"]


def test_a_failed_step_is_one_line_and_exit_1(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        SPEC.replace("SLOW", "0, fail_rate: 1, fail_kind: invalid_input").replace("cli", "bad")
    )
    proc = podium("run", str(spec), home=podium_home, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("error: step slow"))
    assert "fake invalid input" in line and "fake/image-a@1" in line


def test_ctrl_c_then_resume_keeps_finished_steps(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "cli.yaml"
    spec.write_text(SPEC.replace("SLOW", "2"))
    proc = start("run", str(spec), "--json", home=podium_home, cwd=tmp_path)
    run_id = wait_for_step(podium_home, "quick", "succeeded")
    wait_for_step(podium_home, "slow", "running")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert f"podium resume {run_id}" in err
    with open_store(Settings(home=podium_home)) as store:
        assert store.journal.get_run(run_id).status == "interrupted"
    # `podium run` on the same spec resumes it when asked to
    again = podium("run", str(spec), "--json", "--resume", home=podium_home, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["run_id"] == run_id
    with open_store(Settings(home=podium_home)) as store:
        quick = [a for a in store.journal.attempts(run_id) if a.step_key == "quick"]
        assert len(quick) == 1  # the finished step was not redone


def test_cancel_stops_a_running_run(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "cli.yaml"
    spec.write_text(SPEC.replace("SLOW", "20"))
    proc = start("run", str(spec), home=podium_home, cwd=tmp_path)
    run_id = wait_for_step(podium_home, "slow", "running")
    t0 = time.monotonic()
    cancel = podium("cancel", run_id[:12], home=podium_home, cwd=tmp_path)
    assert cancel.returncode == 0, cancel.stderr
    assert f"run {run_id} cancelled" in cancel.stderr
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert time.monotonic() - t0 < 10  # not the 20 s of the slow step
    with open_store(Settings(home=podium_home)) as store:
        assert store.journal.get_run(run_id).status == "cancelled"
        slow = [a for a in store.journal.attempts(run_id) if a.step_key == "slow"]
        assert [a.status for a in slow] == ["cancelled"]


def test_a_wrong_budget_or_setting_is_one_line_before_anything_runs(
    tmp_path: Path, podium_home: Path
) -> None:
    spec = tmp_path / "cli.yaml"
    spec.write_text(SPEC.replace("SLOW", "0.01"))
    for args in (("run", str(spec), "--budget", "nan"), ("resume", "x", "--budget", "-1")):
        done = podium(*args, home=podium_home, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"error: --budget: the budget must be an amount of 0 dollars or more, not "
            f"{float(args[-1])} — pass the most the run may spend in USD, e.g. --budget 2.50"
        ]
    assert not (podium_home / "podium.db").exists()  # refused before the store was opened
    cmd = [sys.executable, "-c", "from podium.cli import main; main()", "run", str(spec)]
    bad = {**env(podium_home), "PODIUM_WORKERS": "many"}
    done = subprocess.run(cmd, env=bad, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: PODIUM_WORKERS or `workers` in podium.toml: setting workers")
    assert "'many'" in line and "Traceback" not in done.stderr


def test_a_step_error_names_its_step_once() -> None:
    from podium.cli.run import step_line

    assert step_line("img", "step img, model a/b@1: refused") == "step img, model a/b@1: refused"
    assert step_line("tag", "step tagline: x") == "step tag: step tagline: x"
    assert step_line("shot", "step shot-1: x") == "step shot: step shot-1: x"
    assert step_line("img", "needs step a") == "step img: needs step a"


def test_podium_resume_after_a_kill_then_again_once_done(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "cli.yaml"
    spec.write_text(SPEC.replace("SLOW", "1"))
    proc = start("run", str(spec), home=podium_home, cwd=tmp_path)
    run_id = wait_for_step(podium_home, "slow", "running")
    proc.kill()  # no goodbye: the journal is all a resume has
    proc.communicate(timeout=30)
    done = podium("resume", run_id[:15], "--json", home=podium_home, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["run_id"], doc["status"]) == (run_id, "succeeded")
    with open_store(Settings(home=podium_home)) as store:
        attempts = store.journal.attempts(run_id)
    assert [a.status for a in attempts if a.step_key == "quick"] == ["succeeded"]  # kept
    summary = Path(doc["summary"])
    stamp = summary.stat().st_mtime_ns
    again = podium("resume", run_id, "--json", home=podium_home, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["resumed"] is False
    assert f"run {run_id} already succeeded; nothing to resume" in again.stderr
    assert summary.stat().st_mtime_ns == stamp  # nothing was run or rewritten


REMOTE_SPEC = f"""
name: rc
steps:
  - id: img
    task: text-to-image
    prompt: {{subject: a can, {FIELDS}}}
    params: {{latency_s: 30, cost_usd: 0.01}}
    route: {{pin: fake-remote/image-a}}
"""


def start_remote_run(tmp_path: Path, home: Path) -> tuple[subprocess.Popen[str], str]:
    """`podium run` of REMOTE_SPEC, and its run id once the remote job was accepted (its
    request id journaled)."""
    spec = tmp_path / "rc.yaml"
    spec.write_text(REMOTE_SPEC)
    proc = start("run", str(spec), home=home, cwd=tmp_path)
    run_id = wait_for_run(
        home,
        lambda store, run_id: any(a.request_id for a in store.journal.attempts(run_id)),
        "a remote attempt being accepted",
    )
    return proc, run_id


def test_ctrl_c_cancels_the_remote_job_at_the_vendor(
    tmp_path: Path, podium_home: Path, remote: FakeRemoteServer
) -> None:
    before = remote.counts()["cancels"]
    proc, run_id = start_remote_run(tmp_path, podium_home)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert remote.counts()["cancels"] == before + 1
    with open_store(Settings(home=podium_home)) as store:
        assert [a.status for a in store.journal.attempts(run_id)] == ["cancelled"]


def test_podium_cancel_stops_the_remote_jobs_a_dead_run_left(
    tmp_path: Path, podium_home: Path, remote: FakeRemoteServer
) -> None:
    before = remote.counts()["cancels"]
    proc, run_id = start_remote_run(tmp_path, podium_home)
    proc.kill()  # nobody is left to notice the cancel: the command does it itself
    proc.communicate(timeout=30)
    done = podium("cancel", run_id, "--wait", "0.3", home=podium_home, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"run {run_id} cancelled (1 remote job(s) cancelled)" in done.stderr
    assert remote.counts()["cancels"] == before + 1
    with open_store(Settings(home=podium_home)) as store:
        assert store.journal.get_run(run_id).status == "cancelled"
        assert [a.status for a in store.journal.attempts(run_id)] == ["cancelled"]


def test_podium_run_honours_the_lock_file_until_it_is_upgraded(
    tmp_path: Path, podium_home: Path
) -> None:
    spec = tmp_path / "lk.yaml"
    spec.write_text(
        "name: lk\nsteps:\n"
        "  - {id: a, task: text, prompt: hi, route: {exclude: [fake-remote, local]}}\n"
    )
    assert podium("lock", str(spec), home=podium_home, cwd=tmp_path).returncode == 0
    lock = tmp_path / "lk.lock"
    assert "a: fake/text-b@1" in lock.read_text()  # what the policy chooses
    lock.write_text(lock.read_text().replace("fake/text-b@1", "fake/text-a@1"))
    done = podium("run", str(spec), "--json", home=podium_home, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    with open_store(Settings(home=podium_home)) as store:
        assert [a.model for a in store.journal.attempts(run_id)] == ["fake/text-a@1"]
    up = podium("lock", str(spec), "a", "--upgrade", home=podium_home, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert "a: fake/text-b@1" in lock.read_text()


def test_resume_and_cancel_say_when_a_run_id_prefix_is_ambiguous(
    tmp_path: Path, podium_home: Path
) -> None:
    from podium.store.records import RunRecord

    with open_store(Settings(home=podium_home)) as store:
        for tail in ("aaaaaa", "bbbbbb"):
            now = time.time()
            store.journal.create_run(
                RunRecord(f"20260101-000000-{tail}", "p", None, "h", "interrupted", now, now)
            )
    for command in ("resume", "cancel"):
        done = podium(command, "20260101", home=podium_home, cwd=tmp_path)
        assert done.returncode == 1
        assert done.stderr.strip().splitlines() == [
            "error: run id '20260101' is ambiguous (2 runs match) — see `podium runs`"
        ], done.stderr


def test_a_wrong_option_is_one_line_naming_the_command(tmp_path: Path, podium_home: Path) -> None:
    for args, says in (
        (("run", "x.yaml", "--seed", "abc"), "error: podium run: Invalid value for '--seed'"),
        (("runs", "--limit", "0"), "error: podium runs: Invalid value for '--limit'"),
        (("nosuch",), "error: podium: No such command 'nosuch'."),
    ):
        done = podium(*args, home=podium_home, cwd=tmp_path)
        assert done.returncode == 2
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(says) and line.endswith("--help`"), line
