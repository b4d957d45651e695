"""The ``fal`` provider: fal's queue API (``queue.fal.run``).

Submit ``POST {base}/{app id}`` with ``Authorization: Key $FAL_KEY``; the answer's
``status_url``, ``response_url`` and ``cancel_url`` are journaled with the request id and always
used as given (fal builds them on the app id without its sub-path). Status is polled with
``?logs=1`` until ``COMPLETED``, then the result is read and its files downloaded. The card says
which app (``endpoint``), how inputs map (see :func:`podium.providers.remote.build_input`) and
where outputs are (``extra.outputs``: type -> dotted path, e.g. ``image: images.0.url``).

Errors: a model error's ``detail`` list (``content_policy_violation`` -> Refused, others ->
InvalidInput), a request error's ``error_type`` / ``X-Fal-Error-Type`` (5xx -> Transient), a start
deadline that passed (504 with ``X-Fal-Request-Timeout-Type: user``) -> Timeout, never retried,
an exhausted balance -> QuotaExceeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx

from podium.errors import (
    BadOutput,
    Cancelled,
    InvalidInput,
    PodiumError,
    QuotaExceeded,
    Refused,
    Timeout,
    Transient,
)
from podium.providers.base import Event, Job, Reporter, Request, Result
from podium.providers.downloads import DEFAULT_OUTPUT_PATHS, collect_outputs
from podium.providers.remote import (
    RemoteProvider,
    body_text,
    build_input,
    dig,
    large_inputs,
    mask,
    mime_of,
    send,
    where_of,
)
from podium.spec.vocabulary import ArtifactType


def classify(response: httpx.Response, where: str) -> PodiumError | None:
    """fal's reading of an error response, or ``None`` for the generic one."""
    status = response.status_code
    if status == 504 and response.headers.get("x-fal-request-timeout-type") == "user":
        return Timeout(
            "the request did not start before its start deadline (X-Fal-Request-Timeout)",
            where=where,
            hint="raise the step's timeout_s or pick a less busy model",
        )
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    detail = data.get("detail") if isinstance(data, Mapping) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
        first = detail[0]
        kinds = {str(item.get("type")) for item in detail if isinstance(item, Mapping)}
        loc = ".".join(str(x) for x in first.get("loc", []) if x != "body")
        if "content_policy_violation" in kinds:
            return Refused(
                f"fal's content checker refused {loc or 'the input'}: {first.get('msg')}",
                where=where,
                hint="reword the prompt or let Podium fall back",
            )
        return InvalidInput(
            f"fal rejected {loc or 'the input'}: {first.get('msg')} ({first.get('type')})",
            where=where,
            hint="check the step's params against the model's schema",
        )
    text = mask(body_text(response), ())
    if status in (402, 403) and any(w in text.lower() for w in ("balance", "locked", "credit")):
        return QuotaExceeded(
            f"fal account out of credit: {text}",
            where=where,
            hint="top up at fal.ai/dashboard/billing",
        )
    error_type = response.headers.get("x-fal-error-type") or (
        data.get("error_type") if isinstance(data, Mapping) else None
    )
    if error_type and status >= 500:
        return Transient(f"fal {error_type} (HTTP {status}): {text}", where=where)
    if error_type == "request_cancelled":
        return Cancelled("the fal request was cancelled", where=where)
    return None


class FalProvider(RemoteProvider):
    """Runs fal apps through the queue API."""

    name: ClassVar[str] = "fal"
    env: ClassVar[str] = "FAL_KEY"
    url_setting: ClassVar[str] = "fal_url"

    def _headers(self, request: Request) -> dict[str, str]:
        return {"Authorization": f"Key {self.key(request)}"}

    async def _send(self, request: Request, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self.http,
            method,
            url,
            where=where_of(request),
            env=self.env,
            secrets=self.secrets(request),
            classify=classify,
            headers=self._headers(request) | kwargs.pop("headers", {}),
            **kwargs,
        )

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Queue the request; returns once fal has given it a request id."""
        app = request.card.endpoint or request.card.model
        headers = {"Idempotency-Key": request.idempotency_key}
        if request.timeout_s:
            # fal's deadline to *start*: a request stuck in the queue fails as a user timeout
            headers["X-Fal-Request-Timeout"] = f"{request.timeout_s:g}"
        files = await self._upload_inputs(request)
        # an optional notification; Podium still follows the status itself
        webhook = request.card.extra.get("webhook")
        response = await self._send(
            request,
            "POST",
            f"{self.base_url(request.card)}/{app}",
            json=build_input(request, files),
            headers=headers,
            params={"fal_webhook": str(webhook)} if webhook else None,
        )
        data = response.json()
        missing = [k for k in ("request_id", "status_url", "response_url") if not data.get(k)]
        if missing:
            raise BadOutput(
                f"fal's submit answer lacks {', '.join(missing)}", where=where_of(request)
            )
        report(Event("queued", data={"position": data.get("queue_position")}))
        state = {k: data[k] for k in ("status_url", "response_url", "cancel_url") if data.get(k)}
        return Job(request=request, request_id=str(data["request_id"]), state=state)

    async def _upload_inputs(self, request: Request) -> dict[str, str]:
        """Upload input files bigger than ``extra.upload_over_bytes`` (256 KiB) to fal's
        storage (initiate, then PUT) and return their URLs by slot; smaller ones go inline."""
        urls: dict[str, str] = {}
        for slot, artifact in large_inputs(request):
            mime = mime_of(artifact)
            initiate = f"{self.settings.fal_storage_url.rstrip('/')}/storage/upload/initiate"
            target = (
                await self._send(
                    request,
                    "POST",
                    initiate,
                    json={"content_type": mime, "file_name": artifact.path.name},
                )
            ).json()
            await send(
                self.http,
                "PUT",
                target["upload_url"],
                where=where_of(request),
                env=self.env,
                content=artifact.path.read_bytes(),
                headers={"Content-Type": mime},
            )
            urls[slot] = str(target["file_url"])
        return urls

    async def resume(self, request: Request, request_id: str, state: Mapping[str, Any]) -> Job:
        """Re-attach by request id, with the URLs journaled at submit."""
        urls = dict(state)
        if "status_url" not in urls:
            app = "/".join((request.card.endpoint or request.card.model).split("/")[:2])
            root = f"{self.base_url(request.card)}/{app}/requests/{request_id}"
            urls = {
                "status_url": f"{root}/status",
                "response_url": root,
                "cancel_url": f"{root}/cancel",
            }
        return Job(request=request, request_id=request_id, state=urls)

    async def _statuses(self, job: Job) -> AsyncIterator[dict[str, Any]]:
        """fal's status documents until COMPLETED: from the SSE stream when the card asks
        (``extra.status_stream``), falling back to polling if the stream breaks."""
        request = job.request
        if request.card.extra.get("status_stream"):
            url = f"{job.state['status_url']}/stream"
            try:
                async with self.http.stream(
                    "GET", url, params={"logs": "1"}, headers=self._headers(request)
                ) as response:
                    if response.is_success:
                        async for line in response.aiter_lines():
                            if line.startswith("data:"):
                                data = json.loads(line[5:])
                                yield data
                                if data.get("status") == "COMPLETED":
                                    return
            except (httpx.HTTPError, ValueError):
                pass  # a broken or refused stream: polling below still gets there
        pace = self.backoff(request.card)
        while True:
            response = await self._send(
                request, "GET", job.state["status_url"], params={"logs": "1"}
            )
            data = response.json()
            yield data
            if data.get("status") == "COMPLETED":
                return
            await asyncio.sleep(pace())

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Follow the status until fal says COMPLETED, then read the result and download its
        files."""
        request = job.request
        seen_logs, started = 0, False
        data: dict[str, Any] = {}
        async for data in self._statuses(job):
            status = data.get("status")
            if status == "IN_QUEUE":
                report(Event("queued", data={"position": data.get("queue_position")}))
            elif status in ("IN_PROGRESS", "COMPLETED"):
                if not started:
                    started = True
                    report(Event("started"))
                logs = data.get("logs") or []
                for entry in logs[seen_logs:]:
                    report(Event("log", message=str(entry.get("message", ""))))
                seen_logs = max(seen_logs, len(logs))
        result = (await self._send(request, "GET", job.state["response_url"])).json()
        urls = self._output_urls(request, result)
        files = await collect_outputs(self.http, request, urls)
        seconds = next(
            (f.metadata.get("duration_s") for f in files if f.metadata.get("duration_s")), None
        )
        seconds = seconds or float(
            request.params.get("duration_s") or request.field("duration_s") or 0
        )
        cost = request.card.price_for(
            images=max(1, len(result.get("images") or [1])), seconds=seconds
        )
        return Result(
            outputs=files,
            cost_usd=cost,
            request_id=job.request_id,
            metadata={
                "inference_time_s": (data.get("metrics") or {}).get("inference_time"),
                "seed": result.get("seed"),
            },
        )

    def _output_urls(self, request: Request, result: Mapping[str, Any]) -> dict[ArtifactType, str]:
        declared = request.card.extra.get("outputs") or {}
        urls: dict[ArtifactType, str] = {}
        for kind in request.outputs:
            paths = (
                [declared[kind.value]]
                if kind.value in declared
                else DEFAULT_OUTPUT_PATHS.get(kind, ())
            )
            for path in paths:
                value = dig(result, str(path))
                if isinstance(value, str):
                    urls[kind] = value
                    break
        return urls

    async def cancel(self, job: Job) -> None:
        """Ask fal to cancel (best effort: a finished request cannot be)."""
        url = job.state.get("cancel_url")
        if url:
            # a finished or unreachable request cannot be cancelled: nothing more to do
            with contextlib.suppress(PodiumError):
                await self._send(job.request, "PUT", url)
