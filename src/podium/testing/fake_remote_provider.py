"""The ``fake-remote`` provider: a remote adapter for the loopback queue of
:mod:`podium.testing.fake_remote`, written the way a real queue adapter is.

It talks through the injected ``httpx.AsyncClient``, translates every HTTP failure into a
failure class at its edge (5xx and dropped connections -> Transient, 429 -> Transient with
Retry-After, 402 -> QuotaExceeded, 422 -> Refused, 400 -> InvalidInput, a failed job ->
its class), and implements submit / wait / resume / find / cancel. Enabled with
``PODIUM_ENABLE_FAKE=1`` and ``PODIUM_FAKE_REMOTE_URL`` pointing at a running server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from podium.catalog.card import ModelCard
from podium.errors import (
    FAILURE_CLASSES,
    BadOutput,
    InvalidInput,
    PodiumError,
    QuotaExceeded,
    Refused,
    Transient,
    Unavailable,
)
from podium.providers.base import Event, Job, OutputFile, Provider, Reporter, Request, Result
from podium.spec.vocabulary import FILE_EXTENSIONS, ArtifactType
from podium.testing.fake import DISABLED

URL_ENV = "PODIUM_FAKE_REMOTE_URL"


def _error(resp: httpx.Response, where: str) -> PodiumError:
    try:
        body = resp.json().get("error", {})
    except ValueError:
        body = {}
    message = f"fake-remote answered {resp.status_code}: {body.get('message', resp.text[:80])}"
    if resp.status_code == 429:
        after = resp.headers.get("Retry-After")
        return Transient(message, where=where, retry_after=float(after) if after else None)
    if resp.status_code >= 500:
        return Transient(message, where=where)
    cls = {402: QuotaExceeded, 422: Refused, 400: InvalidInput, 404: BadOutput}.get(
        resp.status_code, InvalidInput
    )
    return cls(message, where=where)


class FakeRemoteProvider(Provider):
    """Remote adapter of the loopback queue (``remote=True``: breakers per provider too)."""

    name: ClassVar[str] = "fake-remote"
    remote: ClassVar[bool] = True

    @property
    def base_url(self) -> str | None:
        """The server's base URL from ``PODIUM_FAKE_REMOTE_URL``."""
        return os.environ.get(URL_ENV) or None

    def check(self, card: ModelCard) -> str | None:
        """Unavailable unless the fake is enabled and a server URL is set."""
        if not self.settings.enable_fake:
            return DISABLED
        if not self.base_url:
            return f"{URL_ENV} is not set (start podium.testing.fake_remote.FakeRemoteServer)"
        return None

    def estimate_cost(self, card: ModelCard, params: Mapping[str, Any]) -> float:
        """``params.cost_usd`` when given, else the card's price."""
        if params.get("cost_usd") is not None:
            return float(params["cost_usd"])
        return super().estimate_cost(card, params)

    async def _call(self, method: str, url: str, where: str, **kw: Any) -> httpx.Response:
        assert self.client is not None, "remote providers get an injected httpx.AsyncClient"
        try:
            resp = await self.client.request(method, url, **kw)
        except (httpx.TransportError, ConnectionError) as exc:
            # connect failures, resets, bodies cut short, read timeouts: a passing fault
            raise Transient(f"fake-remote: {type(exc).__name__}: {exc}", where=where) from None
        if resp.status_code >= 400:
            raise _error(resp, where)
        return resp

    async def submit(self, request: Request, report: Reporter) -> Job:
        """POST the job; if the answer is lost, find the job by its idempotency key."""
        where = f"step {request.step_id}, model {request.card.ref}"
        payload = {
            "model": request.card.id,
            "idempotency_key": request.idempotency_key,
            "params": dict(request.params),
            "outputs": [str(t) for t in request.outputs],
            "prompt_text": request.prompt_text,
            "seed": request.seed,
            "items": [a.sha256 for a in request.many("items")],
        }
        try:
            resp = await self._call("POST", f"{self.base_url}/v1/jobs", where, json=payload)
            doc = resp.json()
        except (Transient, ValueError) as exc:
            found = await self.find(request)
            if found is not None:
                return found
            if isinstance(exc, Transient):
                raise
            raise Transient(f"fake-remote: unreadable submit answer: {exc}", where=where) from None
        report(Event("queued", data={"request_id": doc["request_id"]}))
        return Job(request, doc["request_id"], _urls(doc))

    async def find(self, request: Request) -> Job | None:
        """The job made with ``request.idempotency_key``, if the server has one."""
        where = f"step {request.step_id}"
        resp = await self._call(
            "GET",
            f"{self.base_url}/v1/jobs",
            where,
            params={"idempotency_key": request.idempotency_key},
        )
        jobs = resp.json().get("jobs", [])
        if not jobs:
            return None
        return Job(request, jobs[0]["request_id"], _urls(jobs[0]))

    async def resume(self, request: Request, request_id: str, state: Mapping[str, Any]) -> Job:
        """Re-attach to a job by its request id (never resubmits)."""
        return Job(request, request_id, dict(state))

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Poll the job until it ends; download its outputs into the work dir."""
        request = job.request
        where = f"step {request.step_id}, model {request.card.ref}"
        delay = 0.01
        while True:
            resp = await self._call("GET", job.state["status_url"], where)
            doc = resp.json()
            status = doc.get("status")
            if status == "succeeded":
                break
            if status in ("failed", "cancelled"):
                err = doc.get("error", {})
                cls = FAILURE_CLASSES.get(str(err.get("type")), Transient)
                raise cls(
                    f"job {job.request_id} {status} after acceptance: {err.get('message', status)}",
                    where=where,
                )
            if doc.get("progress") is not None:
                report(Event("progress", progress=float(doc["progress"])))
            await asyncio.sleep(delay)
            delay = min(0.1, delay * 1.5)
        result = (await self._call("GET", job.state["result_url"], where)).json()
        outputs = []
        for i, out in enumerate(result.get("outputs", [])):
            kind = ArtifactType(out["type"])
            path = request.work_dir / f"out-{i}.{FILE_EXTENSIONS[kind]}"
            data = (await self._call("GET", out["url"], where)).content
            path.write_bytes(data)
            outputs.append(OutputFile(kind, path, {}))
        return Result(outputs, float(result.get("cost_usd") or 0.0), job.request_id)

    async def cancel(self, job: Job) -> None:
        """Ask the server to cancel the job."""
        url = job.state.get("cancel_url")
        if url:
            # best effort: the job may have ended already
            with contextlib.suppress(PodiumError):
                await self._call("POST", url, f"request {job.request_id}")

    def unavailable(self, card: ModelCard) -> Unavailable | None:
        """The check as an error."""
        reason = self.check(card)
        return Unavailable(reason, where=card.id) if reason else None


def _urls(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("status_url", "result_url", "cancel_url") if k in doc}
