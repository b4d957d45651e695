"""The ``comfyui`` provider: a user's API-format ComfyUI workflow, registered as a model card.

The card holds the workflow inline (``extra.workflow``) or names its file (``endpoint``, relative
to the card file), and maps card inputs to node fields in ``extra.fields`` (``prompt:
6.inputs.text``, ``seed: 3.inputs.seed``, ``width: 5.inputs.width`` ...) and input image slots to
``LoadImage`` nodes in ``extra.images`` (``image: 10.inputs.image``; the file is uploaded first).

Submit ``POST /prompt`` with a ``client_id`` and a ``prompt_id`` derived from the attempt's
idempotency key — so a create whose answer was lost is found again by asking ``/history`` and
``/queue`` for that id, and resubmitting the same id never runs it twice. Wait follows the
WebSocket events (``executing``, ``progress``, ``executed``, ``execution_cached``,
``execution_error``, ``execution_success``); when the socket goes quiet for ``extra.ws_quiet_s``
(or cannot be opened) it polls ``/history/{prompt_id}``. Outputs come from the history and
``/view``. Cancel interrupts the prompt and deletes it from the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from podium.catalog.card import ModelCard
from podium.errors import BadOutput, Cancelled, InvalidInput, PodiumError, Transient
from podium.providers.base import Event, Job, OutputFile, Reporter, Request, Result
from podium.providers.downloads import download, output_name
from podium.providers.remote import RemoteProvider, send, where_of
from podium.spec.vocabulary import ArtifactType

_NAMESPACE = uuid.UUID("6f1d5a52-3c1e-4b7a-9d0e-1c2b3a4d5e6f")


def load_workflow(card: ModelCard) -> dict[str, Any]:
    """The card's API-format workflow (inline, or the file its ``endpoint`` names).

    Raises:
        InvalidInput: the file is missing or is not an API-format workflow.
    """
    if isinstance(card.extra.get("workflow"), Mapping):
        return copy.deepcopy(dict(card.extra["workflow"]))
    if not card.endpoint:
        raise InvalidInput(
            f"card {card.id} names no workflow",
            where=card.source_file or card.id,
            hint="set `endpoint: my-workflow.json` or `extra.workflow`",
        )
    path = Path(card.endpoint)
    if not path.is_absolute() and card.source_file:
        path = Path(card.source_file).parent / path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            f"cannot read the workflow {path}: {exc}",
            where=card.source_file or card.id,
            hint="export it with ComfyUI's 'Save (API Format)'",
        ) from None
    if not isinstance(data, dict) or "nodes" in data:
        raise InvalidInput(
            f"{path} is a UI workflow, not API format",
            where=str(path),
            hint="export it with ComfyUI's 'Save (API Format)'",
        )
    return data


def set_path(workflow: dict[str, Any], path: str, value: Any, where: str) -> None:
    """Set ``node.inputs.field`` (a dotted path) in ``workflow``.

    Raises:
        InvalidInput: the node does not exist.
    """
    node_id, *rest = path.split(".")
    if node_id not in workflow:
        raise InvalidInput(
            f"the card maps to node {node_id}, which the workflow lacks",
            where=where,
            hint="check extra.fields against the workflow's node ids",
        )
    target: Any = workflow[node_id]
    for part in rest[:-1]:
        target = target.setdefault(part, {})
    target[rest[-1]] = value


def prompt_id_for(request: Request) -> str:
    """The prompt id Podium uses for an attempt (stable across retries of the same key)."""
    return str(uuid.uuid5(_NAMESPACE, request.idempotency_key))


class ComfyUIProvider(RemoteProvider):
    """Runs API-format workflows on a ComfyUI server."""

    name: ClassVar[str] = "comfyui"
    env: ClassVar[str] = ""
    url_setting: ClassVar[str] = "comfyui_url"

    def check(self, card: ModelCard) -> str | None:
        """ComfyUI has no key; it must be reachable (a quick TCP connect)."""
        reason = super().check(card)
        if reason:
            return reason
        parts = urlsplit(self.base_url(card))
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=0.3):
                return None
        except OSError:
            url = self.base_url(card)
            return f"ComfyUI is not reachable at {url} (start it or set PODIUM_COMFYUI_URL)"

    async def _send(
        self, request: Request, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        return await send(
            self.http,
            method,
            f"{self.base_url(request.card)}{path}",
            where=where_of(request),
            env="PODIUM_COMFYUI_URL",
            **kwargs,
        )

    async def _workflow(self, request: Request) -> dict[str, Any]:
        card, where = request.card, where_of(request)
        workflow = load_workflow(card)
        for name, path in (card.extra.get("fields") or {}).items():
            value = request.seed if name == "seed" else request.field(name)
            if name == "prompt":
                value = request.prompt_text
            if value not in (None, ""):
                set_path(workflow, str(path), value, where)
        for slot, path in (card.extra.get("images") or {}).items():
            artifact = request.single(slot)
            if artifact is not None:
                files = {"image": (artifact.path.name, artifact.path.read_bytes(), "image/png")}
                answer = (
                    await self._send(
                        request, "POST", "/upload/image", files=files, data={"overwrite": "true"}
                    )
                ).json()
                set_path(workflow, str(path), answer["name"], where)
        return workflow

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Queue the workflow under Podium's prompt id."""
        client_id = uuid.uuid4().hex
        prompt_id = prompt_id_for(request)
        body = {
            "prompt": await self._workflow(request),
            "client_id": client_id,
            "prompt_id": prompt_id,
        }
        response = await self._send(
            request,
            "POST",
            "/prompt",
            json=body,
            headers={"Idempotency-Key": request.idempotency_key},
            classify=self._classify_prompt(request),
        )
        answer = response.json()
        report(Event("queued", data={"position": answer.get("number")}))
        return Job(
            request=request,
            request_id=str(answer.get("prompt_id") or prompt_id),
            state={"client_id": client_id},
        )

    @staticmethod
    def _classify_prompt(request: Request) -> Any:
        def classify(response: httpx.Response, where: str) -> PodiumError | None:
            if response.status_code != 400:
                return None
            try:
                body = response.json()
            except ValueError:
                return None
            error = body.get("error") or {}
            nodes = body.get("node_errors") or {}
            detail = ""
            if nodes:
                node_id, info = next(iter(nodes.items()))
                first = (info.get("errors") or [{}])[0]
                detail = (
                    f" (node {node_id} {info.get('class_type')}: "
                    f"{first.get('message')} {first.get('details')})"
                )
            return InvalidInput(
                f"ComfyUI rejected the workflow: {error.get('message')}{detail}",
                where=request.card.source_file or where,
                hint="fix the workflow or the card's extra.fields mapping",
            )

        return classify

    async def resume(self, request: Request, request_id: str, state: Mapping[str, Any]) -> Job:
        """Re-attach by prompt id (events missed while down are read from the history)."""
        return Job(
            request=request,
            request_id=request_id,
            state={"client_id": state.get("client_id") or uuid.uuid4().hex},
        )

    async def find(self, request: Request) -> Job | None:
        """The prompt queued under this attempt's prompt id, if its answer was lost."""
        prompt_id = prompt_id_for(request)
        history = (await self._send(request, "GET", f"/history/{prompt_id}")).json()
        queue = (await self._send(request, "GET", "/queue")).json()
        queued = [
            item[1] for key in ("queue_running", "queue_pending") for item in queue.get(key, [])
        ]
        if prompt_id in history or prompt_id in queued:
            return Job(request=request, request_id=prompt_id, state={"client_id": uuid.uuid4().hex})
        return None

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Follow the events (or the history when the socket is quiet) and fetch the outputs."""
        request = job.request
        prompt_id = str(job.request_id)
        entry = await self._follow_socket(job, report)
        pace = self.backoff(request.card)
        while entry is None:
            history = (await self._send(request, "GET", f"/history/{prompt_id}")).json()
            entry = history.get(prompt_id)
            if entry is None:
                await asyncio.sleep(pace())
        self._raise_for_status(request, entry)
        return await self._fetch(request, prompt_id, entry)

    async def _follow_socket(self, job: Job, report: Reporter) -> dict[str, Any] | None:
        """Read events until the prompt ends; ``None`` when the socket fails or goes quiet."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        request, prompt_id = job.request, str(job.request_id)
        base = self.base_url(request.card)
        url = base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        quiet_s = float(request.card.extra.get("ws_quiet_s", 10.0))
        try:
            async with connect(f"{url}/ws?clientId={job.state['client_id']}", open_timeout=5) as ws:
                while True:
                    raw = await asyncio.wait_for(ws.recv(), timeout=quiet_s)
                    if isinstance(raw, bytes):
                        continue  # a binary preview frame
                    event = json.loads(raw)
                    data = event.get("data") or {}
                    if data.get("prompt_id") not in (None, prompt_id):
                        continue
                    kind = event.get("type")
                    if kind == "execution_start":
                        report(Event("started"))
                    elif kind == "progress" and data.get("max"):
                        report(
                            Event(
                                "progress",
                                progress=data["value"] / data["max"],
                                data={"node": data.get("node")},
                            )
                        )
                    elif kind == "executing" and data.get("node") is not None:
                        report(Event("log", message=f"executing node {data['node']}"))
                    elif kind in (
                        "execution_success",
                        "execution_error",
                        "execution_interrupted",
                    ) or (
                        kind == "executing" and data.get("node") is None and data.get("prompt_id")
                    ):
                        return None  # the history has the outcome and the outputs
        except (TimeoutError, OSError, WebSocketException, ValueError):
            return None  # quiet or broken socket: the history will tell

    def _raise_for_status(self, request: Request, entry: Mapping[str, Any]) -> None:
        status = entry.get("status") or {}
        if status.get("status_str") == "success" or status.get("completed"):
            return
        where = where_of(request)
        for name, data in status.get("messages") or []:
            if name == "execution_interrupted":
                raise Cancelled("the ComfyUI prompt was interrupted", where=where)
            if name == "execution_error":
                raise Transient(
                    f"ComfyUI node {data.get('node_id')} ({data.get('node_type')}) failed: "
                    f"{data.get('exception_type')}: {data.get('exception_message')}",
                    where=where,
                    hint="Podium retries, then falls back",
                )
        raise Transient("the ComfyUI prompt ended without success", where=where)

    async def _fetch(self, request: Request, prompt_id: str, entry: Mapping[str, Any]) -> Result:
        where = where_of(request)
        wanted = request.card.extra.get("output_node")
        images: list[Mapping[str, Any]] = []
        for node_id, output in (entry.get("outputs") or {}).items():
            if wanted is None or str(node_id) == str(wanted):
                images += [
                    i for i in output.get("images", []) if i.get("type") == "output"
                ] or list(output.get("images", []))
        if not images:
            raise BadOutput(
                "the ComfyUI workflow produced no image",
                where=where,
                hint="add a SaveImage node or set extra.output_node",
            )
        outputs: list[OutputFile] = []
        for index, kind in enumerate(request.outputs):
            if index >= len(images) and kind != ArtifactType.IMAGE:
                break
            image = images[min(index, len(images) - 1)]
            params = {
                "filename": image["filename"],
                "subfolder": image.get("subfolder", ""),
                "type": image.get("type", "output"),
            }
            path = await download(
                self.http,
                f"{self.base_url(request.card)}/view",
                output_name(request, index, kind, image["filename"]),
                kind,
                where=where,
                params=params,
            )
            outputs.append(OutputFile(kind, path, {"node_file": image["filename"]}))
        return Result(
            outputs=outputs,
            cost_usd=request.card.price_for(images=len(outputs)),
            request_id=prompt_id,
        )

    async def cancel(self, job: Job) -> None:
        """Interrupt the prompt if it runs, and delete it from the queue if it waits."""
        with contextlib.suppress(PodiumError):
            await self._send(job.request, "POST", "/interrupt", json={"prompt_id": job.request_id})
            await self._send(job.request, "POST", "/queue", json={"delete": [job.request_id]})
