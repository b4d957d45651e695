"""``fake-remote``: a loopback queue server in its own process, and the provider that calls it.

The server outlives the runner process (so a test can SIGKILL a run and resume it against the
same jobs) and speaks a small queue protocol::

    POST /v1/jobs                 {model, idempotency_key, params, outputs, prompt_text, seed}
                                  -> 202 {request_id, status_url, result_url, cancel_url}
    GET  /v1/jobs/{id}            -> {status: running|succeeded|failed|cancelled, progress, error}
    GET  /v1/jobs/{id}/result     -> {outputs: [{type, url}], cost_usd}
    GET  /v1/jobs/{id}/files/{i}  -> the bytes
    POST /v1/jobs/{id}/cancel     -> {status: cancelled}
    GET  /v1/jobs?idempotency_key=K -> {jobs: [{request_id, ...}]}
    GET  /v1/counts               -> {submits: {key: n}, cancels: n, jobs: n}

Faults follow the step params of the ``fake`` provider (``latency_s``, ``fail_rate``,
``fail_kind``, ``fail_model``, ``retry_after_s``, ``cost_usd``) plus ``fail_mode``: ``submit``
(the POST is answered with the error: 503, 429 + Retry-After, 402 quota, 422 refusal, 400,
500 for ``crash``; ``timeout`` hangs it, as ``read_timeout`` does),
``after_accept`` (accepted, fails once its latency has passed), ``lost_response`` (the job is
made, the answer breaks off), ``never_finish``, ``corrupt`` (bytes that decode as nothing) and
``read_timeout`` (the POST hangs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from podium.spec.vocabulary import FILE_EXTENSIONS, ArtifactType
from podium.testing.fake import draw
from podium.testing.media import corrupt, write_artifact

ERROR_STATUS = {
    "transient": 503,
    "quota_exceeded": 402,
    "refused": 422,
    "invalid_input": 400,
    "bad_output": 500,
    "unavailable": 503,
    "crash": 500,
}


@dataclass
class Job:
    """A job the server accepted."""

    request_id: str
    key: str
    payload: dict[str, Any]
    created: float
    fault: str | None
    mode: str
    cancelled: bool = False
    files: list[tuple[str, Path]] = field(default_factory=list)

    def status(self, now: float) -> dict[str, Any]:
        """The job's state as the status route reports it."""
        latency = float(self.payload.get("params", {}).get("latency_s") or 0.0)
        if self.cancelled:
            return {"status": "cancelled"}
        elapsed = now - self.created
        if self.mode == "never_finish" and self.fault:
            return {"status": "running", "progress": 0.5}
        if elapsed < latency:
            return {"status": "running", "progress": round(elapsed / latency, 3)}
        if self.fault and self.mode == "after_accept":
            kind = self.fault
            return {"status": "failed", "error": {"type": kind, "message": f"job failed: {kind}"}}
        return {"status": "succeeded", "progress": 1.0}


class FakeQueue:
    """The server's state and its ASGI routes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.jobs: dict[str, Job] = {}
        self.submits: Counter[str] = Counter()
        self.cancels = 0

    def fault(self, payload: dict[str, Any]) -> tuple[str | None, str]:
        """The fault this submit suffers (kind, mode)."""
        params = payload.get("params", {})
        rate = float(params.get("fail_rate") or 0.0)
        only = params.get("fail_model")
        mode = str(params.get("fail_mode") or "submit")
        if rate <= 0:
            return None, mode
        if only and payload.get("model") not in ([only] if isinstance(only, str) else only):
            return None, mode
        if draw(str(payload.get("idempotency_key"))) >= rate:
            return None, mode
        return str(params.get("fail_kind") or "transient"), mode

    def app(self) -> Any:
        """The Starlette application."""
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(
            routes=[
                Route("/v1/jobs", self.submit, methods=["POST"]),
                Route("/v1/jobs", self.find, methods=["GET"]),
                Route("/v1/counts", self.counts, methods=["GET"]),
                Route("/v1/jobs/{rid}", self.status, methods=["GET"]),
                Route("/v1/jobs/{rid}/result", self.result, methods=["GET"]),
                Route("/v1/jobs/{rid}/files/{i:int}", self.file, methods=["GET"]),
                Route("/v1/jobs/{rid}/cancel", self.cancel, methods=["POST"]),
            ]
        )

    async def submit(self, request: Any) -> Any:
        """Accept a job (or fail the way the params ask)."""
        from starlette.responses import JSONResponse, StreamingResponse

        payload = await request.json()
        key = str(payload.get("idempotency_key") or "")
        kind, mode = self.fault(payload)
        if kind and (mode == "read_timeout" or (mode == "submit" and kind == "timeout")):
            await asyncio.sleep(3600)
        if kind and mode == "submit" and kind != "bad_output":
            headers = {}
            retry_after = payload.get("params", {}).get("retry_after_s")
            status = ERROR_STATUS.get(kind, 503)
            if kind == "transient" and retry_after is not None:
                status, headers = 429, {"Retry-After": str(retry_after)}
            body = {"error": {"type": kind, "message": f"fake {kind}"}}
            return JSONResponse(body, status_code=status, headers=headers)
        self.submits[key] += 1
        rid = uuid.uuid4().hex[:16]
        self.jobs[rid] = Job(rid, key, payload, time.time(), kind, mode)
        base = str(request.base_url).rstrip("/")
        doc = {
            "request_id": rid,
            "status_url": f"{base}/v1/jobs/{rid}",
            "result_url": f"{base}/v1/jobs/{rid}/result",
            "cancel_url": f"{base}/v1/jobs/{rid}/cancel",
        }
        if kind and mode == "lost_response":
            return StreamingResponse(_broken(json.dumps(doc)[:20].encode()), status_code=202)
        return JSONResponse(doc, status_code=202)

    async def find(self, request: Any) -> Any:
        """Jobs made with an idempotency key."""
        from starlette.responses import JSONResponse

        key = request.query_params.get("idempotency_key", "")
        base = str(request.base_url).rstrip("/")
        jobs = [
            {
                "request_id": j.request_id,
                "status_url": f"{base}/v1/jobs/{j.request_id}",
                "result_url": f"{base}/v1/jobs/{j.request_id}/result",
                "cancel_url": f"{base}/v1/jobs/{j.request_id}/cancel",
            }
            for j in self.jobs.values()
            if j.key == key
        ]
        return JSONResponse({"jobs": jobs})

    async def counts(self, request: Any) -> Any:
        """Submits per idempotency key, cancels and jobs."""
        from starlette.responses import JSONResponse

        return JSONResponse(
            {"submits": dict(self.submits), "cancels": self.cancels, "jobs": len(self.jobs)}
        )

    def _job(self, request: Any) -> Job | None:
        return self.jobs.get(request.path_params["rid"])

    async def status(self, request: Any) -> Any:
        """A job's state."""
        from starlette.responses import JSONResponse

        job = self._job(request)
        if job is None:
            return JSONResponse({"error": {"type": "not_found"}}, status_code=404)
        return JSONResponse(job.status(time.time()))

    async def result(self, request: Any) -> Any:
        """A finished job's outputs (made on first request)."""
        from starlette.responses import JSONResponse

        job = self._job(request)
        if job is None or job.status(time.time())["status"] != "succeeded":
            return JSONResponse({"error": {"type": "not_ready"}}, status_code=409)
        if not job.files:
            job.files = await asyncio.to_thread(self._make, job)
        base = str(request.base_url).rstrip("/")
        outs = [
            {"type": t, "url": f"{base}/v1/jobs/{job.request_id}/files/{i}"}
            for i, (t, _) in enumerate(job.files)
        ]
        cost = job.payload.get("params", {}).get("cost_usd")
        return JSONResponse({"outputs": outs, "cost_usd": float(cost or 0.0)})

    def _make(self, job: Job) -> list[tuple[str, Path]]:
        p = job.payload
        params = p.get("params", {})
        made = []
        for i, kind in enumerate(p.get("outputs", ["image"])):
            at = ArtifactType(kind)
            path = self.root / f"{job.request_id}-{i}.{FILE_EXTENSIONS[at]}"
            write_artifact(
                at,
                path,
                seed=int(p.get("seed") or 0),
                text=str(p.get("prompt_text") or ""),
                duration_s=float(params["duration_s"]) if params.get("duration_s") else None,
                items=p.get("items", []),
            )
            if job.fault and job.mode in ("corrupt", "submit") and job.fault == "bad_output":
                corrupt(path)
            made.append((kind, path))
        return made

    async def file(self, request: Any) -> Any:
        """One output's bytes."""
        from starlette.responses import FileResponse, JSONResponse

        job = self._job(request)
        i = request.path_params["i"]
        if job is None or i >= len(job.files):
            return JSONResponse({"error": {"type": "not_found"}}, status_code=404)
        return FileResponse(job.files[i][1])

    async def cancel(self, request: Any) -> Any:
        """Cancel a job."""
        from starlette.responses import JSONResponse

        job = self._job(request)
        if job is None:
            return JSONResponse({"error": {"type": "not_found"}}, status_code=404)
        job.cancelled = True
        self.cancels += 1
        return JSONResponse({"status": "cancelled"})


async def _broken(first: bytes) -> AsyncIterator[bytes]:
    yield first
    await asyncio.sleep(0)
    raise ConnectionResetError("fault: response lost after submit")


class FakeRemoteServer:
    """The queue server in a subprocess; a context manager.

    Args:
        port: the port to listen on (0 picks a free one).
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port or _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL (set ``PODIUM_FAKE_REMOTE_URL`` to it)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeRemoteServer:
        """Start the server process and wait until it answers."""
        cmd = [sys.executable, "-m", "podium.testing.fake_remote", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/v1/counts", timeout=0.5).raise_for_status()
                return self
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"fake remote server did not start on {self.url}")

    def counts(self) -> dict[str, Any]:
        """``{submits: {key: n}, cancels, jobs}``."""
        data: dict[str, Any] = httpx.get(self.url + "/v1/counts", timeout=5).json()
        return data

    def stop(self) -> None:
        """Stop the server process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> FakeRemoteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exit_with_parent(parent: int) -> None:
    # a test that dies without stopping its server must not leave the server behind
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Serve the fake queue in the foreground: ``python -m podium.testing.fake_remote``."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    root = Path(tempfile.mkdtemp(prefix="podium-fake-remote-"))
    queue = FakeQueue(root)
    os.environ.setdefault("PODIUM_FAKE_CACHE", str(root / "cache"))
    uvicorn.run(queue.app(), host="127.0.0.1", port=args.port, log_level="critical", lifespan="off")


if __name__ == "__main__":
    main()
