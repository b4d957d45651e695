"""The ``replicate`` provider: Replicate's predictions API.

The card's ``endpoint`` says what to run: ``owner/name`` (an official model,
``POST /v1/models/owner/name/predictions``), ``owner/name:VERSION`` (``POST /v1/predictions``
with the version) or ``deployments/owner/name``. A create is not idempotent, so every input
carries Podium's marker (``podium_marker`` = the attempt's idempotency key; Replicate ignores
inputs a model does not declare) and :meth:`ReplicateProvider.find` looks for it before the
runner ever creates again. ``Prefer: wait=N`` (card ``extra.sync_wait_s``) lets short models
answer in the create; ``Cancel-After`` carries the attempt's timeout. Statuses ``starting``,
``processing``, ``succeeded``, ``failed``, ``canceled`` and ``aborted`` (a deadline that passed
before the prediction started) are all understood. Webhook deliveries are checked with
:func:`verify_webhook`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from podium.errors import (
    BadOutput,
    Cancelled,
    PodiumError,
    QuotaExceeded,
    Refused,
    Timeout,
    Transient,
)
from podium.providers.base import Event, Job, Reporter, Request, Result
from podium.providers.downloads import collect_outputs
from podium.providers.remote import (
    RemoteProvider,
    build_input,
    dig,
    large_inputs,
    mask,
    mime_of,
    send,
    where_of,
)
from podium.spec.vocabulary import ArtifactType

MARKER = "podium_marker"
TERMINAL = ("succeeded", "failed", "canceled", "aborted")
_REFUSAL_SIGNS = ("E005", "flagged as sensitive", "nsfw", "safety", "content policy")
_FIND_LIMIT = 50  # predictions examined when looking for a lost create


def verify_webhook(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance_s: float = 300.0
) -> bool:
    """Whether a webhook delivery really comes from Replicate.

    Args:
        secret: the signing secret (``whsec_...``) from ``GET /v1/webhooks/default/secret``.
        headers: the delivery's headers (``webhook-id``, ``webhook-timestamp``,
            ``webhook-signature``), any case.
        body: the raw body, exactly as received.
        tolerance_s: how old a delivery may be (replay protection).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature", "")
    if not webhook_id or not timestamp or not signatures:
        return False
    try:
        if abs(time.time() - int(timestamp)) > tolerance_s:
            return False
        key = base64.b64decode(secret.removeprefix("whsec_"))
    except ValueError:
        return False
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split():
        _, _, value = entry.partition(",")
        if hmac.compare_digest(value, expected):
            return True
    return False


def classify(response: httpx.Response, where: str) -> PodiumError | None:
    """Replicate's reading of an error response (problem documents), or ``None``."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, Mapping):
        return None
    text = mask(f"{data.get('title', '')}: {data.get('detail', '')}", ())
    if response.status_code == 402 or "insufficient credit" in text.lower():
        return QuotaExceeded(f"Replicate: {text}", where=where, hint="add credit or fall back")
    return None


class ReplicateProvider(RemoteProvider):
    """Runs Replicate models, versions and deployments."""

    name: ClassVar[str] = "replicate"
    env: ClassVar[str] = "REPLICATE_API_TOKEN"
    url_setting: ClassVar[str] = "replicate_url"

    async def _send(self, request: Request, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key(request)}"} | kwargs.pop("headers", {})
        return await send(
            self.http,
            method,
            url,
            where=where_of(request),
            env=self.env,
            secrets=self.secrets(request),
            classify=classify,
            headers=headers,
            **kwargs,
        )

    def _create_url_and_body(
        self, request: Request, files: Mapping[str, str] | None = None
    ) -> tuple[str, dict[str, Any]]:
        endpoint = request.card.endpoint or request.card.model
        payload: dict[str, Any] = {
            "input": {**build_input(request, files), MARKER: request.idempotency_key}
        }
        webhook = request.card.extra.get("webhook")
        if webhook:
            payload.update(webhook=webhook, webhook_events_filter=["completed"])
        base = f"{self.base_url(request.card)}/v1"
        if endpoint.startswith("deployments/"):
            return f"{base}/{endpoint}/predictions", payload
        if ":" in endpoint:
            payload["version"] = endpoint  # "owner/name:version" names the model too
            return f"{base}/predictions", payload
        return f"{base}/models/{endpoint}/predictions", payload

    async def _upload_inputs(self, request: Request) -> dict[str, str]:
        """Input files over ``extra.upload_over_bytes`` (256 KiB) go through Replicate's files
        API (``POST /v1/files``) and are sent by URL; smaller ones inline as data URIs."""
        urls: dict[str, str] = {}
        for slot, artifact in large_inputs(request):
            content = (artifact.path.name, artifact.path.read_bytes(), mime_of(artifact))
            answer = (
                await self._send(
                    request,
                    "POST",
                    f"{self.base_url(request.card)}/v1/files",
                    files={"content": content},
                )
            ).json()
            urls[slot] = str(answer["urls"]["get"])
        return urls

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Create the prediction; returns with its id (and maybe its output, with Prefer: wait)."""
        url, payload = self._create_url_and_body(request, await self._upload_inputs(request))
        headers = {"Idempotency-Key": request.idempotency_key}
        if request.timeout_s:
            headers["Cancel-After"] = f"{max(1, int(request.timeout_s))}s"
        if request.card.extra.get("sync_wait_s"):
            headers["Prefer"] = f"wait={int(request.card.extra['sync_wait_s'])}"
        response = await self._send(request, "POST", url, json=payload, headers=headers)
        prediction = response.json()
        if not prediction.get("id"):
            raise BadOutput(
                "Replicate's create answer has no prediction id", where=where_of(request)
            )
        report(Event("queued", message=str(prediction.get("status"))))
        return self._job(request, prediction)

    def _job(self, request: Request, prediction: Mapping[str, Any]) -> Job:
        urls = prediction.get("urls") or {}
        base = f"{self.base_url(request.card)}/v1/predictions/{prediction['id']}"
        state: dict[str, Any] = {
            "get": urls.get("get") or base,
            "cancel": urls.get("cancel") or f"{base}/cancel",
        }
        if prediction.get("status") in TERMINAL:
            state["prediction"] = dict(prediction)  # Prefer: wait already brought the outcome
        return Job(request=request, request_id=str(prediction["id"]), state=state)

    async def resume(self, request: Request, request_id: str, state: Mapping[str, Any]) -> Job:
        """Re-attach to a prediction by its id."""
        base = f"{self.base_url(request.card)}/v1/predictions/{request_id}"
        urls = {"get": state.get("get") or base, "cancel": state.get("cancel") or f"{base}/cancel"}
        return Job(request=request, request_id=request_id, state=urls)

    async def find(self, request: Request) -> Job | None:
        """The prediction created for ``request.idempotency_key`` whose create answer was lost.

        Reads the newest predictions (a lost create is recent: at most ``_FIND_LIMIT`` of them,
        of this model) for Podium's marker in their input.
        """
        endpoint = request.card.endpoint or request.card.model
        # a deployment's predictions name the model it serves, not the deployment: no filter
        model = "" if endpoint.startswith("deployments/") else endpoint.split(":")[0]
        url: str | None = f"{self.base_url(request.card)}/v1/predictions"
        examined = 0
        while url is not None and examined < _FIND_LIMIT:
            page = (await self._send(request, "GET", url)).json()
            for item in page.get("results") or []:
                if examined >= _FIND_LIMIT:
                    break
                examined += 1
                if model and item.get("model") and model != str(item["model"]):
                    continue  # another model's prediction: not ours
                inputs = item.get("input")
                if inputs is None:  # lists leave inputs out: read the prediction itself
                    get_url = (item.get("urls") or {}).get("get") or (
                        f"{url.split('?')[0]}/{item['id']}"
                    )
                    item = (await self._send(request, "GET", get_url)).json()
                    inputs = item.get("input") or {}
                if inputs.get(MARKER) == request.idempotency_key:
                    return self._job(request, item)
            url = page.get("next")
        return None

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Poll the prediction until it ends; download its output."""
        request = job.request
        prediction = job.state.get("prediction")
        pace, started, seen_logs = self.backoff(request.card), False, 0
        while prediction is None or prediction.get("status") not in TERMINAL:
            if prediction is not None:
                await asyncio.sleep(pace())
            prediction = (await self._send(request, "GET", job.state["get"])).json()
            status = prediction.get("status")
            if status == "processing" and not started:
                started = True
                report(Event("started"))
            logs = str(prediction.get("logs") or "")
            if len(logs) > seen_logs:
                for line in logs[seen_logs:].splitlines():
                    if line.strip():
                        report(Event("log", message=line))
                seen_logs = len(logs)
        self._raise_for_end(request, prediction)
        files = await collect_outputs(self.http, request, self._output_urls(request, prediction))
        metrics = prediction.get("metrics") or {}
        predict_s = float(metrics.get("predict_time") or 0.0)
        seconds = (
            predict_s
            if request.card.price.unit == "compute_second"
            else float(
                next((f.metadata["duration_s"] for f in files if f.metadata.get("duration_s")), 0.0)
                or request.params.get("duration_s")
                or 0.0
            )
        )
        output = prediction.get("output")
        count = len(output) if isinstance(output, list) else 1
        return Result(
            outputs=files,
            cost_usd=request.card.price_for(images=count, seconds=seconds),
            request_id=job.request_id,
            metadata={"predict_time_s": predict_s},
        )

    def _raise_for_end(self, request: Request, prediction: Mapping[str, Any]) -> None:
        where, status = where_of(request), prediction.get("status")
        error = mask(str(prediction.get("error") or ""), self.secrets(request))
        if status == "succeeded":
            return
        if status == "aborted":
            raise Timeout(
                "the prediction's deadline (Cancel-After) passed before it started",
                where=where,
                hint="raise the step's timeout_s or fall back",
            )
        if status == "canceled":
            if request.timeout_s:
                raise Timeout(
                    "the prediction ran past its deadline (Cancel-After) and was canceled",
                    where=where,
                    hint="raise the step's timeout_s",
                )
            raise Cancelled("the prediction was canceled", where=where)
        if any(sign.lower() in error.lower() for sign in _REFUSAL_SIGNS):
            raise Refused(
                f"Replicate refused the content: {error}",
                where=where,
                hint="reword the prompt or let Podium fall back",
            )
        raise Transient(
            f"the prediction failed after it was accepted: {error}",
            where=where,
            hint="Podium retries, then falls back",
        )

    def _output_urls(
        self, request: Request, prediction: Mapping[str, Any]
    ) -> dict[ArtifactType, str]:
        output = prediction.get("output")
        declared = request.card.extra.get("outputs") or {}
        urls: dict[ArtifactType, str] = {}
        for kind in request.outputs:
            value = dig(output, str(declared[kind.value])) if kind.value in declared else output
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, str):
                urls[kind] = value
        return urls

    async def cancel(self, job: Job) -> None:
        """Cancel the prediction (best effort)."""
        # a finished prediction cannot be cancelled: nothing more to do
        with contextlib.suppress(PodiumError):
            await self._send(job.request, "POST", job.state["cancel"])
