"""The executor seam, the output checks and the live view, each seen from outside."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from podium.errors import BadOutput
from podium.execute import RunEvent
from podium.execute.executor import LocalExecutor, LocalHandle
from podium.execute.progress import ProgressView
from podium.media.verify import verify_output
from podium.providers.base import Job, Provider, Reporter, Request, Result
from podium.testing.media import write_glb, write_mp4, write_wav

from .conftest import Harness

FIELDS = "style: photo, lighting: soft, composition: centered, perspective: eye level"


class ElsewhereExecutor:
    """Another executor (as a cluster one would be): it only sees providers and requests."""

    def __init__(self, inner: LocalExecutor) -> None:
        self.inner = inner
        self.ran: list[str] = []

    async def submit(
        self,
        provider: Provider,
        request: Request,
        *,
        resume: tuple[str, Mapping[str, Any]] | None = None,
    ) -> LocalHandle:
        self.ran.append(request.step_id)
        return await self.inner.submit(provider, request, resume=resume)

    async def shutdown(self) -> None:
        await self.inner.shutdown()


async def test_the_runner_runs_on_any_executor(harness: Harness, tmp_path: Path) -> None:
    other = ElsewhereExecutor(harness.runner.executor)  # type: ignore[arg-type]
    harness.runner.executor = other
    text = f"""
name: seam
steps:
  - {{id: a, task: text-to-image, prompt: {{subject: x, {FIELDS}}}, route: {{pin: fake/image-a}},
      variants: {{count: 2}}}}
  - {{id: b, task: text, prompt: "after ${{steps.a.outputs[1]}}", route: {{pin: fake/text-a}}}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded"
    assert sorted(other.ran) == ["a[0]", "a[1]", "b"]
    assert (tmp_path / "b.txt").read_text().startswith("after ")


async def test_progress_events_stream_from_the_handle(harness: Harness, tmp_path: Path) -> None:
    from podium.testing.fake import FakeProvider

    card = harness.runner.catalog.get("fake/image-a")
    request = Request(
        step_id="x", task=card.tasks[0], card=card, prompt="x", prompt_text="x", inputs={},
        params={"latency_s": 0.05}, seed=1, outputs=card.outputs_for(card.tasks[0]),
        work_dir=tmp_path, idempotency_key="k",
    )  # fmt: skip
    handle = await LocalExecutor(harness.settings).submit(FakeProvider(harness.settings), request)
    kinds = [e.kind async for e in handle.events()]
    result = await handle.result()
    assert kinds[-1] == "progress" and "started" in kinds
    assert verify_output(result.outputs[0].path, "image")["width"] == 16


def test_audio_duration_is_checked_within_ten_percent(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    write_wav(wav, duration_s=2.0)
    assert verify_output(wav, "audio", expected_duration_s=2.15)["duration_s"] == 2.0
    with pytest.raises(BadOutput, match=r"lasts 2.00 s, expected 2.50 s"):
        verify_output(wav, "audio", expected_duration_s=2.5)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(BadOutput, match="is empty"):
        verify_output(tmp_path / "empty.png", "image")
    for missing in (tmp_path / "none.png", tmp_path / "a.wav" / "under-a-file.png"):
        with pytest.raises(BadOutput, match="was not written"):
            verify_output(missing, "image")


def test_video_length_and_meshes_are_checked(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    write_mp4(video, duration_s=1.0)
    assert verify_output(video, "video", expected_duration_s=1.05)["duration_s"] == 1.0
    with pytest.raises(BadOutput, match=r"lasts 1.00 s, expected 1.50 s"):
        verify_output(video, "video", expected_duration_s=1.5)
    box = tmp_path / "box.glb"
    write_glb(box)
    assert verify_output(box, "mesh")["faces"] == 12
    for name, junk in (("junk.glb", b"glTF" + bytes(range(60))), ("junk.obj", b"v 1 2\nf 9 9 9\n")):
        (tmp_path / name).write_bytes(junk)
        with pytest.raises(BadOutput, match="mesh"):
            verify_output(tmp_path / name, "mesh")


def test_progress_view_shows_a_line_per_step() -> None:
    buf = io.StringIO()
    view = ProgressView(["a", "b"], Console(file=buf, width=100, force_terminal=False))
    view(RunEvent("run", "run-1", "running"))
    view(RunEvent("step", "a", "running", "a", "fake/image-a@1", data={"units": 2}))
    view(RunEvent("step", "a[0]", "succeeded", "a"))
    view(RunEvent("step", "b", "failed", "b", message="step b: boom"))
    Console(file=buf, width=100).print(view.render())
    text = buf.getvalue()
    assert "run run-1" in text
    assert "fake/image-a@1" in text and "running 1/2" in text
    assert "failed" in text and "step b: boom" in text
    # a run refused before it exists (a bad lock, an unwritable --out) draws no table
    quiet = io.StringIO()
    with ProgressView(["a"], Console(file=quiet, width=100, force_terminal=False)):
        pass
    assert quiet.getvalue() == ""


async def test_provider_progress_reaches_the_listener(harness: Harness, tmp_path: Path) -> None:
    events: list[RunEvent] = []
    text = f"""
name: prog
steps:
  - {{id: a, task: text-to-image, prompt: {{subject: x, {FIELDS}}}, params: {{latency_s: 0.05}},
      route: {{pin: fake/image-a}}}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path, on_event=events.append)
    assert outcome.status == "succeeded"
    progress = [e for e in events if e.kind == "progress"]
    assert progress and progress[-1].progress == 1.0 and progress[-1].step_id == "a"


def _request(card: Any, tmp_path: Path, latency_s: float) -> Request:
    return Request(
        step_id="x", task=card.tasks[0], card=card, prompt="x", prompt_text="x", inputs={},
        params={"latency_s": latency_s}, seed=1, outputs=card.outputs_for(card.tasks[0]),
        work_dir=tmp_path, idempotency_key="k",
    )  # fmt: skip


async def test_the_wait_runs_in_the_task_awaiting_the_result(
    harness: Harness, tmp_path: Path
) -> None:
    from podium.testing.fake import FakeProvider

    class Where(FakeProvider):
        ran_in: asyncio.Task[Any] | None = None

        async def wait(self, job: Job, report: Reporter) -> Result:
            self.ran_in = asyncio.current_task()
            return await super().wait(job, report)

    provider = Where(harness.settings)
    card = harness.runner.catalog.get("fake/text-a")
    handle = await LocalExecutor(harness.settings).submit(provider, _request(card, tmp_path, 0))
    assert provider.ran_in is None  # accepted; the wait begins with result()
    result = await handle.result()
    assert provider.ran_in is asyncio.current_task()  # no task, no hop through the loop
    assert result.outputs[0].path.read_text()

    slow = await LocalExecutor(harness.settings).submit(provider, _request(card, tmp_path, 30))
    waiting = asyncio.ensure_future(slow.result())
    await asyncio.sleep(0.05)
    waiting.cancel()  # cancelling the awaiting attempt stops the wait at once
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 1)
    await slow.cancel()
