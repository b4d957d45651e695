"""A loopback server speaking Replicate's predictions API (api.replicate.com/v1).

Creates by version (``POST /v1/predictions``), by official model
(``/v1/models/{owner}/{name}/predictions``) and by deployment
(``/v1/deployments/{owner}/{name}/predictions``); ``GET /v1/predictions/{id}``, ``POST
.../cancel``, ``GET /v1/predictions`` (newest first, paginated by ``cursor``, without inputs, so
clients fetch a prediction to read them). Statuses ``starting``, ``processing``, ``succeeded``,
``failed``, ``canceled`` and ``aborted``. ``Prefer: wait[=N]`` holds the create open until the
prediction ends (at most N s, 60 by default); ``Cancel-After`` sets a deadline — ``aborted`` if it
passes before the prediction starts, ``canceled`` while it runs. Webhooks are sent signed like
Replicate's (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``
of ``id.timestamp.body`` keyed by the secret of ``GET /v1/webhooks/default/secret``). Errors are
problem documents: ``{"title", "detail", "status"}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from podium.testing.servers import media
from podium.testing.servers.base import Loopback, QueuedJob, dropped

SENSITIVE = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)


def parse_duration(text: str) -> float | None:
    """Seconds of a Cancel-After value such as ``90s``, ``5m``, ``1h30m`` or ``500ms``."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def sign_webhook(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` header value Replicate sends."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class ReplicateServer(Loopback):
    """Replicate's predictions API on loopback."""

    name = "replicate"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.jobs: dict[str, QueuedJob] = {}
        self.order: list[str] = []
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, bytes] = {}  # the files API's uploads by id
        self.webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self._wall0 = time.time() - time.monotonic()

    def routes(self) -> list[BaseRoute]:
        """Replicate's routes."""
        return [
            Route("/files/{name}", self.file, methods=["GET"]),
            Route("/v1/files", self.upload, methods=["POST"]),
            Route("/v1/files/{fid}/download", self.download, methods=["GET"]),
            Route("/v1/webhooks/default/secret", self.secret, methods=["GET"]),
            Route("/v1/predictions", self.create, methods=["POST"]),
            Route("/v1/predictions", self.list, methods=["GET"]),
            Route("/v1/models/{owner}/{model}/predictions", self.create, methods=["POST"]),
            Route("/v1/deployments/{owner}/{model}/predictions", self.create, methods=["POST"]),
            Route("/v1/predictions/{pid}", self.get, methods=["GET"]),
            Route("/v1/predictions/{pid}/cancel", self.cancel, methods=["POST"]),
        ]

    @staticmethod
    def problem(status: int, title: str, detail: str, **headers: str) -> Response:
        """A problem document, Replicate's error shape."""
        return JSONResponse(
            {"title": title, "detail": detail, "status": status}, status, headers=headers
        )

    def _gate_error(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            return self.problem(
                429,
                "Request was throttled",
                f"Request was throttled. Expected available in {retry_after or 1:g} second.",
                **{"Retry-After": f"{retry_after or 1:g}"},
            )
        return self.problem(status, "Service Unavailable", "The service is temporarily unavailable")

    def _auth(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        if not re.match(r"^(Bearer|Token) \S+", header):
            return self.problem(
                401, "Unauthenticated", "You did not pass a valid authentication token"
            )
        return None

    # -- predictions ----------------------------------------------------------------------

    def _status(self, job: QueuedJob) -> str:
        deadline = job.extra.get("cancel_after")
        if deadline is not None and job.cancelled_at is None:
            elapsed = time.monotonic() - job.created
            ends_at = float("inf") if job.never_finish else job.queue_s + job.run_s
            if elapsed >= deadline and ends_at > deadline:
                # Replicate: aborted if the deadline passed before it started, else canceled
                return "aborted" if job.queue_s >= deadline else "canceled"
        phase = job.phase()
        named = {"queued": "starting", "running": "processing", "cancelled": "canceled"}
        if phase in named:
            return named[phase]
        return "failed" if job.fail or job.refuse else "succeeded"

    def view(self, job: QueuedJob, *, with_input: bool = True) -> dict[str, Any]:
        """The prediction object."""
        status = self._status(job)
        base = f"{self.url}/v1/predictions/{job.id}"
        started = (
            job.created + job.queue_s if status != "starting" and status != "aborted" else None
        )
        done = status in ("succeeded", "failed", "canceled", "aborted")
        body: dict[str, Any] = {
            "id": job.id,
            "model": job.extra["model"],
            "version": job.extra.get("version"),
            "logs": "" if status == "starting" else f"step {int(job.progress() * 10)}/10\n",
            "output": None,
            "data_removed": False,
            "error": None,
            "status": status,
            "source": "api",
            "created_at": _iso(self._wall0 + job.created),
            "started_at": _iso(self._wall0 + started) if started else None,
            "completed_at": _iso(time.time()) if done else None,
            "urls": {
                "get": base,
                "cancel": f"{base}/cancel",
                "stream": f"{base}/stream",
                "web": f"https://replicate.com/p/{job.id}",
            },
            "metrics": {"predict_time": job.run_s, "total_time": job.queue_s + job.run_s}
            if done
            else {},
        }
        if with_input:
            body["input"] = job.input
        if job.extra.get("webhook"):
            body["webhook"] = job.extra["webhook"]
        if status == "failed":
            body["error"] = (
                SENSITIVE if job.refuse else "CUDA out of memory while running the model"
            )
        elif status == "succeeded":
            body["output"] = self._output(job)
        return body

    async def create(self, request: Request) -> Response:
        """Create a prediction."""
        denied = self._auth(request) or await self.gate("create", self._gate_error)
        if denied is not None:
            return denied
        if self.faults.quota:
            return self.problem(
                402,
                "Insufficient credit",
                "You have insufficient credit to run this "
                "model. Go to https://replicate.com/account/billing to purchase credit.",
            )
        try:
            body = await request.json()
        except ValueError:
            return self.problem(400, "Bad request", "The request body is not valid JSON")
        params = request.path_params
        if params:
            model, version = f"{params['owner']}/{params['model']}", None
        elif isinstance(body, dict) and body.get("version"):
            version = str(body["version"]).split(":")[-1]
            model = (
                str(body["version"]).split(":")[0] if ":" in str(body["version"]) else "owner/model"
            )
        else:
            return self.problem(422, "Invalid request", "version is required")
        if not isinstance(body.get("input"), dict):
            return self.problem(
                422, "Input validation failed", "input is required and must be an object"
            )
        cancel_after = None
        if request.headers.get("cancel-after"):
            cancel_after = parse_duration(request.headers["cancel-after"])
            if cancel_after is None:
                return self.problem(
                    400, "Invalid Cancel-After", "Cancel-After must be a duration like 60s"
                )
        job = QueuedJob.make(uuid.uuid4().hex[:26], model, body["input"], self.faults)
        job.extra.update(
            model=model,
            version=version or secrets.token_hex(32),
            cancel_after=cancel_after,
            webhook=body.get("webhook"),
            events=body.get("webhook_events_filter") or ["start", "output", "logs", "completed"],
        )
        with self.lock:
            self.jobs[job.id] = job
            self.order.insert(0, job.id)
            self.stats.creates[request.headers.get("idempotency-key", "-")] += 1
        if job.extra["webhook"]:
            asyncio.get_running_loop().create_task(self._deliver_webhook(job))
        if self.faults.take("lose_create"):
            return dropped(201)
        wait = request.headers.get("prefer", "")
        if wait.startswith("wait"):
            limit = float(wait.split("=", 1)[1]) if "=" in wait else 60.0
            end = time.monotonic() + min(limit, 60.0)
            while time.monotonic() < end and self._status(job) in ("starting", "processing"):
                await asyncio.sleep(0.02)
        return JSONResponse(self.view(job), status_code=201)

    async def get(self, request: Request) -> Response:
        """Read a prediction."""
        denied = self._auth(request) or await self.gate("get", self._gate_error)
        if denied is not None:
            return denied
        job = self.jobs.get(request.path_params["pid"])
        if job is None:
            return self.problem(404, "Not found", "The requested resource could not be found")
        if self.faults.take("drop_body"):
            return dropped()
        return JSONResponse(self.view(job))

    async def list(self, request: Request) -> Response:
        """Predictions, newest first, 100 a page."""
        denied = self._auth(request) or await self.gate("list", self._gate_error)
        if denied is not None:
            return denied
        start = int(request.query_params.get("cursor") or 0)
        ids = self.order[start : start + 100]
        more = start + 100 < len(self.order)
        return JSONResponse(
            {
                "previous": None,
                "next": f"{self.url}/v1/predictions?cursor={start + 100}" if more else None,
                "results": [self.view(self.jobs[i], with_input=False) for i in ids],
            }
        )

    async def cancel(self, request: Request) -> Response:
        """Cancel a prediction."""
        denied = self._auth(request)
        if denied is not None:
            return denied
        job = self.jobs.get(request.path_params["pid"])
        if job is None:
            return self.problem(404, "Not found", "The requested resource could not be found")
        self.stats.cancels += 1
        if self._status(job) in ("starting", "processing"):
            job.cancelled_at = time.monotonic()
        return JSONResponse(self.view(job))

    async def upload(self, request: Request) -> Response:
        """Store a file sent as multipart ``content`` (Replicate's files API)."""
        denied = self._auth(request)
        if denied is not None:
            return denied
        async with request.form() as form:  # closes the spooled upload files
            content = form.get("content")
            if content is None or isinstance(content, str):
                return self.problem(400, "Bad request", "the `content` file is required")
            data, name = await content.read(), str(content.filename or "file")
            mime = content.content_type or "application/octet-stream"
        fid = uuid.uuid4().hex[:24]
        self.uploads[fid] = data
        return JSONResponse(
            {
                "id": fid,
                "name": name,
                "content_type": mime,
                "size": len(data),
                "checksums": {"sha256": hashlib.sha256(data).hexdigest()},
                "metadata": {},
                "created_at": _iso(time.time()),
                "expires_at": None,
                "urls": {"get": f"{self.url}/v1/files/{fid}/download"},
            },
            status_code=201,
        )

    async def download(self, request: Request) -> Response:
        """An uploaded file's bytes."""
        data = self.uploads.get(request.path_params["fid"])
        if data is None:
            return self.problem(404, "Not found", "No such file")
        return Response(data, media_type="application/octet-stream")

    async def secret(self, request: Request) -> Response:
        """The signing secret of webhooks."""
        denied = self._auth(request)
        return denied or JSONResponse({"key": self.webhook_secret})

    # -- outputs and webhooks -------------------------------------------------------------

    def _file(self, job: QueuedJob, data: bytes, ext: str) -> str:
        name = f"{job.id}-{len(self.files)}.{ext}"
        self.files[name] = media.CORRUPT if job.corrupt else data
        return f"{self.url}/files/{name}"

    def _output(self, job: QueuedJob) -> Any:
        if "output" in job.extra:
            return job.extra["output"]
        kind, data = media.kind_for(job.route), job.input
        if kind == "video":
            out: Any = self._file(job, media.mp4(float(data.get("duration", 5))), "mp4")
        elif kind == "mesh":
            out = self._file(job, media.glb(), "glb")
        elif kind in ("music", "audio"):
            out = self._file(job, media.wav(float(data.get("duration", 3))), "wav")
        else:
            width, height = int(data.get("width", 1024)), int(data.get("height", 1024))
            out = [
                self._file(job, media.png(width, height, str(data.get("prompt"))), "png")
                for _ in range(int(data.get("num_outputs", 1)))
            ]
        job.extra["output"] = out
        return out

    async def file(self, request: Request) -> Response:
        """A generated file."""
        data = self.files.get(request.path_params["name"])
        if data is None:
            return self.problem(404, "Not found", "No such file")
        if self.faults.take("drop_body"):
            return dropped(media_type="application/octet-stream")
        return Response(data, media_type="application/octet-stream")

    async def _deliver_webhook(self, job: QueuedJob) -> None:
        while self._status(job) in ("starting", "processing"):
            await asyncio.sleep(0.02)
        if "completed" not in job.extra["events"]:
            return
        body = json.dumps(self.view(job)).encode()
        webhook_id, ts = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": ts,
            "webhook-signature": sign_webhook(self.webhook_secret, webhook_id, ts, body),
        }
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                await client.post(job.extra["webhook"], content=body, headers=headers)
        except httpx.HTTPError:
            pass  # Replicate retries deliveries; a loopback receiver that is gone is fine
