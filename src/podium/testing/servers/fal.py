"""A loopback server speaking fal's queue protocol (queue.fal.run).

``POST /{owner}/{app}[/{path}]`` with ``Authorization: Key ...`` queues a request and answers
its ``request_id`` with ``status_url``, ``response_url`` and ``cancel_url`` — built on the app id
without its sub-path, as fal does, so clients must use the URLs they are given. Status is
``IN_QUEUE`` (with ``queue_position``), ``IN_PROGRESS`` (with ``logs`` when ``?logs=1``), then
``COMPLETED``; 202 while pending, 200 when done; ``/status/stream`` sends the same as server-sent
events. The result carries file URLs served by this server. Errors follow fal's two shapes:
model errors (``detail`` list of typed objects, e.g. ``content_policy_violation``) and request
errors (``detail`` string, ``error_type`` and the ``X-Fal-Error-Type`` header); a start deadline
(``X-Fal-Request-Timeout``) that passes gives 504 with ``X-Fal-Request-Timeout-Type: user``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from podium.testing.servers import media
from podium.testing.servers.base import Loopback, QueuedJob, dropped

_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}


def _seconds(value: Any, default: float = 5.0) -> float:
    match = re.search(r"\d+(\.\d+)?", str(value)) if value is not None else None
    return float(match.group()) if match else default


class FalServer(Loopback):
    """fal's queue API on loopback."""

    name = "fal"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.jobs: dict[str, QueuedJob] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.uploads: dict[str, str] = {}  # initiated uploads -> content type

    def routes(self) -> list[BaseRoute]:
        """fal's queue routes, most specific first (the app id may hold slashes)."""
        return [
            Route("/files/{name}", self.file, methods=["GET"]),
            Route("/storage/upload/initiate", self.initiate, methods=["POST"]),
            Route("/uploads/{name}", self.receive, methods=["PUT"]),
            Route("/{app:path}/requests/{rid}/status/stream", self.stream, methods=["GET"]),
            Route("/{app:path}/requests/{rid}/status", self.status, methods=["GET"]),
            Route("/{app:path}/requests/{rid}/cancel", self.cancel, methods=["PUT"]),
            Route("/{app:path}/requests/{rid}", self.result, methods=["GET"]),
            Route("/{app:path}", self.submit, methods=["POST"]),
        ]

    # -- errors in fal's shapes ---------------------------------------------------------

    def request_error(self, status: int, error_type: str, detail: str, **headers: str) -> Response:
        """A request error: flat ``detail`` + ``error_type``, mirrored in X-Fal-Error-Type."""
        return JSONResponse(
            {"detail": detail, "error_type": error_type},
            status_code=status,
            headers={"X-Fal-Error-Type": error_type, **headers},
        )

    def _gate_error(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            return JSONResponse(
                {"detail": "Too many concurrent requests"},
                status_code=429,
                headers={"Retry-After": f"{retry_after or 1:g}"},
            )
        return self.request_error(status, "runner_scheduling_failure", "No runner available")

    def _auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Key ") or len(header) <= 4:
            return JSONResponse({"detail": "Missing or invalid Authorization header"}, 401)
        if self.faults.quota:
            return JSONResponse(
                {
                    "detail": "User is locked. Reason: Exhausted balance. Top up your balance at "
                    "fal.ai/dashboard/billing."
                },
                403,
            )
        return None

    # -- queue routes ---------------------------------------------------------------------

    def _urls(self, job: QueuedJob) -> dict[str, str]:
        base = "/".join(job.route.split("/")[:2])  # fal drops the sub-path
        root = f"{self.url}/{base}/requests/{job.id}"
        return {
            "response_url": root,
            "status_url": f"{root}/status",
            "cancel_url": f"{root}/cancel",
        }

    async def submit(self, request: Request) -> Response:
        """Queue a request."""
        denied = self._auth(request) or await self.gate("submit", self._gate_error)
        if denied is not None:
            return denied
        try:
            payload = await request.json()
        except ValueError:
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "Invalid JSON", "type": "value_error"}]}, 422
            )
        if not isinstance(payload, dict):
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "Expected an object", "type": "type_error"}]},
                422,
            )
        job = QueuedJob.make(str(uuid.uuid4()), request.path_params["app"], payload, self.faults)
        timeout = request.headers.get("x-fal-request-timeout")
        if timeout:
            job.start_timeout_s = float(timeout)
        with self.lock:
            self.jobs[job.id] = job
            self.stats.creates[request.headers.get("idempotency-key", "-")] += 1
        if request.query_params.get("fal_webhook"):
            job.extra["webhook"] = request.query_params["fal_webhook"]
            asyncio.get_running_loop().create_task(self._deliver_webhook(job))
        if self.faults.take("lose_create"):
            return dropped()
        return JSONResponse({"request_id": job.id, **self._urls(job), "queue_position": 0})

    def _job(self, request: Request) -> QueuedJob | None:
        return self.jobs.get(request.path_params["rid"])

    def _status_body(self, job: QueuedJob, logs: bool) -> dict[str, Any]:
        phase = job.phase()
        body: dict[str, Any] = {**self._urls(job), "request_id": job.id}
        if phase == "queued":
            body.update(status="IN_QUEUE", queue_position=0)
        elif phase == "running":
            body["status"] = "IN_PROGRESS"
            if logs:
                body["logs"] = [
                    {
                        "message": f"step {int(job.progress() * 10)}/10",
                        "level": "INFO",
                        "source": "user",
                        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    }
                ]
        else:
            body.update(status="COMPLETED", metrics={"inference_time": job.run_s})
            if logs:
                body["logs"] = []
            if phase != "done" or job.fail or job.refuse:
                body["error"] = "Request failed"
        return body

    async def status(self, request: Request) -> Response:
        """The request's status."""
        denied = self._auth(request) or await self.gate("status", self._gate_error)
        if denied is not None:
            return denied
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, 404)
        body = self._status_body(job, request.query_params.get("logs") in ("1", "true"))
        return JSONResponse(body, status_code=200 if body["status"] == "COMPLETED" else 202)

    async def stream(self, request: Request) -> Response:
        """The request's status as server-sent events until it completes."""
        denied = self._auth(request)
        if denied is not None:
            return denied
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, 404)
        logs = request.query_params.get("logs") in ("1", "true")

        async def events() -> AsyncIterator[bytes]:
            while True:
                body = self._status_body(job, logs)
                yield f"data: {json.dumps(body)}\n\n".encode()
                if body["status"] == "COMPLETED":
                    return
                await asyncio.sleep(0.05)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def cancel(self, request: Request) -> Response:
        """Ask to cancel the request."""
        denied = self._auth(request)
        if denied is not None:
            return denied
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, 404)
        self.stats.cancels += 1
        if job.phase() in ("queued", "running"):
            job.cancelled_at = time.monotonic()
            return JSONResponse({"status": "CANCELLATION_REQUESTED"}, 202)
        return JSONResponse({"status": "ALREADY_COMPLETED"}, 400)

    async def result(self, request: Request) -> Response:
        """The request's result (or its error)."""
        denied = self._auth(request) or await self.gate("result", self._gate_error)
        if denied is not None:
            return denied
        job = self._job(request)
        if job is None:
            return JSONResponse({"detail": "Request not found"}, 404)
        phase = job.phase()
        if phase in ("queued", "running"):
            return JSONResponse({"detail": "Request is still in progress"}, 400)
        if phase == "cancelled":
            return self.request_error(400, "request_cancelled", "Request was cancelled")
        if phase == "timed_out":
            return self.request_error(
                504,
                "startup_timeout",
                "Request timed out before it started",
                **{"X-Fal-Request-Timeout-Type": "user"},
            )
        if job.refuse:
            return JSONResponse(
                {
                    "detail": [
                        {
                            "loc": ["body", "prompt"],
                            "msg": "The content was flagged by a content checker.",
                            "type": "content_policy_violation",
                            "url": "https://docs.fal.ai/errors#content_policy_violation",
                            "input": job.input.get("prompt", ""),
                        }
                    ]
                },
                422,
                headers={"X-Fal-Retryable": "false"},
            )
        if job.fail:
            return self.request_error(
                503, "runner_disconnected", "The runner disconnected while processing"
            )
        if self.faults.take("drop_body"):
            return dropped()
        return JSONResponse(self._output(job))

    async def _deliver_webhook(self, job: QueuedJob) -> None:
        """POST fal's webhook body once the request has finished."""
        while job.phase() in ("queued", "running"):
            await asyncio.sleep(0.02)
        ok = job.phase() == "done" and not (job.fail or job.refuse)
        body: dict[str, Any] = {
            "request_id": job.id,
            "gateway_request_id": job.id,
            "status": "OK" if ok else "ERROR",
            "payload": self._output(job) if ok else None,
        }
        if not ok:
            body["error"] = "Request failed"
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=5) as client:
                await client.post(
                    job.extra["webhook"], json=body, headers={"X-Fal-Webhook-Request-Id": job.id}
                )

    # -- outputs --------------------------------------------------------------------------

    def _file(self, job: QueuedJob, data: bytes, ext: str, content_type: str) -> dict[str, Any]:
        name = f"{job.id}-{len(self.files)}.{ext}"
        self.files[name] = (media.CORRUPT if job.corrupt else data, content_type)
        return {
            "url": f"{self.url}/files/{name}",
            "content_type": content_type,
            "file_name": name,
            "file_size": len(self.files[name][0]),
        }

    def _output(self, job: QueuedJob) -> dict[str, Any]:
        # one result per request: the webhook and the result URL hand out the same files
        if "output" not in job.extra:
            job.extra["output"] = self._make_output(job)
        output: dict[str, Any] = job.extra["output"]
        return output

    def _make_output(self, job: QueuedJob) -> dict[str, Any]:
        kind, data = media.kind_for(job.route), job.input
        if kind == "video":
            return {
                "video": self._file(
                    job, media.mp4(_seconds(data.get("duration"))), "mp4", "video/mp4"
                )
            }
        if kind == "mesh":
            return {"model_mesh": self._file(job, media.glb(), "glb", "model/gltf-binary")}
        if kind in ("music", "audio"):
            seconds = _seconds(data.get("seconds_total") or data.get("duration"), 3.0)
            # Stable Audio Open answers ``audio_file``; the newer audio models answer ``audio``
            key = "audio_file" if job.route == "fal-ai/stable-audio" else "audio"
            return {key: self._file(job, media.wav(seconds), "wav", "audio/wav")}
        size = data.get("image_size", "landscape_4_3")
        width, height = (
            (size["width"], size["height"])
            if isinstance(size, dict)
            else _SIZES.get(str(size), (1024, 768))
        )
        count = int(data.get("num_images", 1))
        images = []
        for i in range(count):
            images.append(
                {
                    **self._file(
                        job,
                        media.png(width, height, f"{data.get('prompt')}{i}"),
                        "png",
                        "image/png",
                    ),
                    "width": width,
                    "height": height,
                }
            )
        return {
            "images": images,
            "seed": data.get("seed", 42),
            "has_nsfw_concepts": [False] * count,
            "prompt": data.get("prompt", ""),
            "timings": {"inference": job.run_s},
        }

    async def initiate(self, request: Request) -> Response:
        """Start an upload to fal's storage: where to PUT the bytes, and the file's URL."""
        denied = self._auth(request)
        if denied is not None:
            return denied
        body = await request.json()
        name = f"{uuid.uuid4().hex}-{body.get('file_name') or 'upload.bin'}"
        self.uploads[name] = str(body.get("content_type") or "application/octet-stream")
        return JSONResponse(
            {"upload_url": f"{self.url}/uploads/{name}", "file_url": f"{self.url}/files/{name}"}
        )

    async def receive(self, request: Request) -> Response:
        """The PUT of an initiated upload."""
        name = request.path_params["name"]
        if name not in self.uploads:
            return JSONResponse({"detail": "Unknown upload"}, 404)
        self.files[name] = (await request.body(), self.uploads[name])
        return Response(status_code=200)

    async def file(self, request: Request) -> Response:
        """A generated file."""
        item = self.files.get(request.path_params["name"])
        if item is None:
            return JSONResponse({"detail": "Not found"}, 404)
        if self.faults.take("drop_body"):
            return dropped(media_type=item[1])
        return Response(item[0], media_type=item[1])
