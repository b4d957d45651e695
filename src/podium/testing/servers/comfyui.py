"""A loopback server speaking ComfyUI's HTTP and WebSocket API.

``POST /prompt`` takes an API-format workflow (``{node_id: {class_type, inputs}}``) with a
``client_id`` (and optionally its own ``prompt_id``) and answers ``{prompt_id, number,
node_errors}`` — or 400 with ``error`` and ``node_errors`` for a workflow that does not validate.
``/ws?clientId=`` sends ``status``, then for that client's prompts ``execution_start``,
``execution_cached``, ``executing``, ``progress`` (samplers), ``executed`` (output nodes),
``execution_success`` or ``execution_error`` / ``execution_interrupted``, and ``executing`` with
``node: null`` at the end. ``GET /history/{prompt_id}`` holds outputs and status once finished;
``GET /view`` serves files; ``POST /upload/image`` stores inputs; ``POST /interrupt`` stops the
running prompt; ``GET``/``POST /queue`` list and delete queued prompts. Nothing is really
executed: every ``Save*``/``Preview*`` node makes a PNG the size of the workflow's latent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from podium.testing.servers import media
from podium.testing.servers.base import Loopback, QueuedJob, dropped


def _is_output(node: dict[str, Any]) -> bool:
    kind = str(node.get("class_type", ""))
    return kind.startswith(("Save", "Preview"))


def _size(workflow: dict[str, Any]) -> tuple[int, int]:
    for node in workflow.values():
        inputs = node.get("inputs", {})
        if "width" in inputs and "height" in inputs and isinstance(inputs["width"], int):
            return int(inputs["width"]), int(inputs["height"])
    return 512, 512


def validate(workflow: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """ComfyUI's validation error for ``workflow`` as (error, node_errors), or ``None``."""
    if not isinstance(workflow, dict) or not workflow:
        return {
            "type": "invalid_prompt",
            "message": "Cannot execute because the prompt is empty",
            "details": "",
            "extra_info": {},
        }, {}
    node_errors: dict[str, Any] = {}
    for node_id, node in workflow.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return {
                "type": "invalid_prompt",
                "message": f"Node {node_id} has no class_type",
                "details": "",
                "extra_info": {},
            }, {}
        for name, value in (node.get("inputs") or {}).items():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) not in workflow:
                node_errors[node_id] = {
                    "errors": [
                        {
                            "type": "invalid_link",
                            "message": "Link to a missing node",
                            "details": name,
                            "extra_info": {},
                        }
                    ],
                    "dependent_outputs": [],
                    "class_type": node["class_type"],
                }
    if node_errors:
        return {
            "type": "prompt_outputs_failed_validation",
            "message": "Prompt outputs failed validation",
            "details": "",
            "extra_info": {},
        }, node_errors
    if not any(_is_output(n) for n in workflow.values()):
        return {
            "type": "prompt_no_outputs",
            "message": "Prompt has no outputs",
            "details": "",
            "extra_info": {},
        }, {}
    return None


class ComfyUIServer(Loopback):
    """ComfyUI's server API on loopback."""

    name = "comfyui"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.jobs: dict[str, QueuedJob] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.uploads: dict[str, bytes] = {}
        self.interrupts = 0
        self._number = 0

    def routes(self) -> list[BaseRoute]:
        """ComfyUI's HTTP routes and its WebSocket."""
        return [
            Route("/prompt", self.prompt, methods=["POST"]),
            Route("/history/{prompt_id}", self.history, methods=["GET"]),
            Route("/view", self.view, methods=["GET"]),
            Route("/upload/image", self.upload, methods=["POST"]),
            Route("/interrupt", self.interrupt, methods=["POST"]),
            Route("/queue", self.queue, methods=["GET", "POST"]),
            WebSocketRoute("/ws", self.ws),
        ]

    def _gate_error(self, status: int, retry_after: float | None) -> Response:
        headers = {"Retry-After": f"{retry_after or 1:g}"} if status == 429 else {}
        return JSONResponse(
            {"error": {"type": "server_busy", "message": "Server busy"}}, status, headers=headers
        )

    # -- HTTP -----------------------------------------------------------------------------

    async def prompt(self, request: Request) -> Response:
        """Queue a workflow."""
        denied = await self.gate("prompt", self._gate_error)
        if denied is not None:
            return denied
        body = await request.json()
        workflow = body.get("prompt")
        problem = validate(workflow)
        if problem is not None:
            return JSONResponse({"error": problem[0], "node_errors": problem[1]}, 400)
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        if prompt_id in self.jobs:  # ComfyUI keys its queue by prompt id
            job = self.jobs[prompt_id]
        else:
            job = QueuedJob.make(prompt_id, "comfyui", workflow, self.faults)
            job.extra.update(client_id=body.get("client_id"), number=self._number)
            self._number += 1
            self.jobs[prompt_id] = job
            self.stats.creates[request.headers.get("idempotency-key", "-")] += 1
        if self.faults.take("lose_create"):
            return dropped()
        return JSONResponse(
            {"prompt_id": prompt_id, "number": job.extra["number"], "node_errors": {}}
        )

    def _outputs(self, job: QueuedJob) -> dict[str, Any]:
        if "outputs" not in job.extra:
            width, height = _size(job.input)
            outputs: dict[str, Any] = {}
            for node_id, node in job.input.items():
                if _is_output(node):
                    prefix = str(node.get("inputs", {}).get("filename_prefix", "ComfyUI"))
                    name = f"{prefix}_{len(self.files):05d}_.png"
                    kind = "output" if str(node["class_type"]).startswith("Save") else "temp"
                    data = (
                        media.CORRUPT
                        if job.corrupt
                        else media.png(width, height, f"{job.id}{node_id}")
                    )
                    self.files[(name, "", kind)] = data
                    outputs[node_id] = {
                        "images": [{"filename": name, "subfolder": "", "type": kind}]
                    }
            job.extra["outputs"] = outputs
        outputs_ready: dict[str, Any] = job.extra["outputs"]
        return outputs_ready

    def _ended(self, job: QueuedJob) -> str | None:
        phase = job.phase()
        if phase == "cancelled":
            return "interrupted"
        if phase == "done":
            return "error" if job.fail else "success"
        return None

    async def history(self, request: Request) -> Response:
        """A finished prompt's outputs and status (``{}`` while it is not finished)."""
        denied = await self.gate("history", self._gate_error)
        if denied is not None:
            return denied
        job = self.jobs.get(request.path_params["prompt_id"])
        ended = self._ended(job) if job else None
        if job is None or ended is None:
            return JSONResponse({})
        messages: list[Any] = [["execution_start", {"prompt_id": job.id}]]
        if ended == "error":
            messages.append(["execution_error", self._error(job)])
        elif ended == "interrupted":
            messages.append(["execution_interrupted", {"prompt_id": job.id}])
        else:
            messages.append(["execution_success", {"prompt_id": job.id}])
        entry = {
            "prompt": [
                job.extra["number"],
                job.id,
                job.input,
                {"client_id": job.extra.get("client_id")},
                [k for k, n in job.input.items() if _is_output(n)],
            ],
            "outputs": self._outputs(job) if ended == "success" else {},
            "status": {
                "status_str": "success" if ended == "success" else "error",
                "completed": ended == "success",
                "messages": messages,
            },
            "meta": {},
        }
        return JSONResponse({job.id: entry})

    async def view(self, request: Request) -> Response:
        """A file by filename, subfolder and type."""
        q = request.query_params
        data = self.files.get(
            (q.get("filename", ""), q.get("subfolder", ""), q.get("type", "output"))
        )
        if data is None:
            return Response(status_code=404)
        if self.faults.take("drop_body"):
            return dropped(media_type="image/png")
        return Response(data, media_type="image/png")

    async def upload(self, request: Request) -> Response:
        """Store an input image."""
        async with request.form() as form:  # closes the spooled upload files
            image = form.get("image")
            if image is None or isinstance(image, str):
                return Response(status_code=400)
            name = str(image.filename or "upload.png")
            self.uploads[name] = await image.read()
            subfolder = str(form.get("subfolder") or "")
        return JSONResponse({"name": name, "subfolder": subfolder, "type": "input"})

    async def interrupt(self, request: Request) -> Response:
        """Interrupt the running prompt (or the one named)."""
        self.interrupts += 1
        self.stats.cancels += 1
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            body = await request.json() or {}
        now = time.monotonic()
        for job in self.jobs.values():
            if job.phase(now) == "running" and body.get("prompt_id") in (None, job.id):
                job.cancelled_at = now
        return Response(status_code=200)

    async def queue(self, request: Request) -> Response:
        """The queue; ``{"delete": [ids]}`` removes pending prompts."""
        if request.method == "POST":
            body = await request.json()
            for prompt_id in body.get("delete", []):
                job = self.jobs.get(prompt_id)
                if job is not None and job.phase() == "queued":
                    job.cancelled_at = time.monotonic()
            return Response(status_code=200)
        now = time.monotonic()

        def item(job: QueuedJob) -> list[Any]:
            return [
                job.extra["number"],
                job.id,
                job.input,
                {"client_id": job.extra.get("client_id")},
                [],
            ]

        return JSONResponse(
            {
                "queue_running": [item(j) for j in self.jobs.values() if j.phase(now) == "running"],
                "queue_pending": [item(j) for j in self.jobs.values() if j.phase(now) == "queued"],
            }
        )

    # -- WebSocket ------------------------------------------------------------------------

    def _error(self, job: QueuedJob) -> dict[str, Any]:
        node_id = next(iter(job.input))
        return {
            "prompt_id": job.id,
            "node_id": node_id,
            "node_type": job.input[node_id]["class_type"],
            "executed": [],
            "exception_message": "Allocation on device failed: out of memory",
            "exception_type": "torch.OutOfMemoryError",
            "traceback": [],
            "current_inputs": {},
            "current_outputs": {},
        }

    def _events(self, job: QueuedJob, sent: int) -> tuple[list[dict[str, Any]], int]:
        """Events of ``job`` not yet sent (``sent`` counts those already sent)."""
        pid, nodes = job.id, list(job.input)
        timeline: list[dict[str, Any]] = []
        phase = job.phase()
        if phase in ("running", "done", "cancelled") and not (phase == "cancelled" and sent == 0):
            timeline += [
                {"type": "execution_start", "data": {"prompt_id": pid, "timestamp": 0}},
                {
                    "type": "execution_cached",
                    "data": {"nodes": [], "prompt_id": pid, "timestamp": 0},
                },
            ]
            reached = len(nodes) if phase != "running" else int(job.progress() * len(nodes))
            for node_id in nodes[:reached]:
                timeline.append(
                    {
                        "type": "executing",
                        "data": {"node": node_id, "display_node": node_id, "prompt_id": pid},
                    }
                )
                if "Sampler" in str(job.input[node_id].get("class_type")):
                    for step in (1, 2, 3, 4):
                        timeline.append(
                            {
                                "type": "progress",
                                "data": {
                                    "value": step,
                                    "max": 4,
                                    "prompt_id": pid,
                                    "node": node_id,
                                },
                            }
                        )
        ended = self._ended(job)
        if ended == "success":
            for node_id, output in self._outputs(job).items():
                timeline.append(
                    {
                        "type": "executed",
                        "data": {
                            "node": node_id,
                            "display_node": node_id,
                            "output": output,
                            "prompt_id": pid,
                        },
                    }
                )
            timeline += [
                {"type": "execution_success", "data": {"prompt_id": pid, "timestamp": 0}},
                {"type": "executing", "data": {"node": None, "prompt_id": pid}},
            ]
        elif ended == "error":
            timeline.append({"type": "execution_error", "data": self._error(job)})
        elif ended == "interrupted":
            timeline.append(
                {
                    "type": "execution_interrupted",
                    "data": {
                        "prompt_id": pid,
                        "node_id": nodes[0],
                        "node_type": "",
                        "executed": [],
                    },
                }
            )
        return timeline[sent:], len(timeline)

    async def ws(self, websocket: WebSocket) -> None:
        """Push events for the client's prompts."""
        client_id = websocket.query_params.get("clientId") or uuid.uuid4().hex
        await websocket.accept()
        sent: dict[str, int] = {}
        try:
            await websocket.send_json(
                {
                    "type": "status",
                    "data": {
                        "status": {
                            "exec_info": {
                                "queue_remaining": sum(
                                    1 for j in self.jobs.values() if j.phase() == "queued"
                                )
                            }
                        },
                        "sid": client_id,
                    },
                }
            )
            while True:
                if not self.faults.ws_quiet:
                    for job in list(self.jobs.values()):
                        if job.extra.get("client_id") != client_id:
                            continue
                        events, sent[job.id] = self._events(job, sent.get(job.id, 0))
                        for event in events:
                            await websocket.send_json(event)
                # wait for a client message (or its disconnect) a moment instead of sleeping,
                # so a closed socket ends this loop and the server can shut down
                with contextlib.suppress(TimeoutError):
                    message = await asyncio.wait_for(websocket.receive(), timeout=0.01)
                    if message["type"] == "websocket.disconnect":
                        return
        except (WebSocketDisconnect, RuntimeError):
            return
