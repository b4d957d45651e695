"""The ``openai`` provider: image generation and edits, and speech (streamed, with TTFB).

OpenAI's calls are synchronous: there is no request id before the answer, so nothing to resume
— the runner re-runs an attempt interrupted mid-call. The card's ``endpoint`` is the model
(``gpt-image-1``, ``gpt-4o-mini-tts``, ``tts-1``). Images: ``POST images/generations`` (or
``images/edits`` with the ``image`` input for image-to-image), size picked from the step's
width/height among the model's sizes (card ``extra.sizes``). Speech: ``POST audio/speech``
streamed in ``extra.response_format`` (``wav`` by default), each chunk reported as it comes and
the time to first byte recorded in the result's metadata.

Errors: ``insufficient_quota`` -> QuotaExceeded, ``moderation_blocked`` /
``content_policy_violation`` -> Refused, 429 ``rate_limit_exceeded`` -> Transient with
Retry-After, 401 -> Unavailable naming ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

import httpx

from podium.errors import BadOutput, PodiumError, QuotaExceeded, Refused
from podium.providers.base import Job, OutputFile, Reporter, Request, Result
from podium.providers.downloads import (
    audio_seconds,
    check_media,
    collect_outputs,
    output_name,
    stream_to_file,
    write_srt,
)
from podium.providers.remote import RemoteProvider, mask, send, where_of
from podium.spec.vocabulary import ArtifactType, Task

_REFUSALS = ("moderation_blocked", "content_policy_violation")
_SIZES = ("1024x1024", "1536x1024", "1024x1536")


def classify(response: httpx.Response, where: str) -> PodiumError | None:
    """OpenAI's reading of an error document, or ``None`` for the generic one."""
    try:
        err = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return None
    code, kind = str(err.get("code") or ""), str(err.get("type") or "")
    text = mask(str(err.get("message") or ""), ())
    if "insufficient_quota" in (code, kind):
        return QuotaExceeded(
            f"OpenAI quota spent: {text}",
            where=where,
            hint="check the plan and billing, or fall back",
        )
    if code in _REFUSALS or kind in _REFUSALS:
        return Refused(
            f"OpenAI's safety system refused the request: {text}",
            where=where,
            hint="reword the prompt or let Podium fall back",
        )
    return None


def pick_size(request: Request) -> str:
    """The model size closest in shape to the step's width/height (or the card's default)."""
    sizes = tuple(request.card.extra.get("sizes") or _SIZES)
    width, height = request.params.get("width"), request.params.get("height")
    if not width or not height:
        return str(request.params.get("size") or request.card.extra.get("size") or sizes[0])
    want = float(width) / float(height)

    def distance(size: str) -> float:
        w, h = (int(x) for x in size.split("x"))
        return abs(w / h - want)

    return str(min(sizes, key=distance))


class OpenAIProvider(RemoteProvider):
    """OpenAI images and speech."""

    name: ClassVar[str] = "openai"
    env: ClassVar[str] = "OPENAI_API_KEY"
    url_setting: ClassVar[str] = "openai_url"

    def _headers(self, request: Request) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(request)}"}

    async def _send(self, request: Request, path: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self.http,
            "POST",
            f"{self.base_url(request.card)}/{path}",
            where=where_of(request),
            env=self.env,
            secrets=self.secrets(request),
            classify=classify,
            headers=self._headers(request),
            **kwargs,
        )

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Nothing to submit ahead: the call happens in :meth:`wait`."""
        self.key(request)  # fail before the runner waits when the key is missing
        return Job(request=request)

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Make the call and write its outputs."""
        request = job.request
        if request.task == Task.TEXT_TO_SPEECH:
            return await self._speech(request, report)
        return await self._image(request)

    async def _image(self, request: Request) -> Result:
        card, where = request.card, where_of(request)
        model = card.endpoint or card.model
        fields: dict[str, Any] = {
            "model": model,
            "prompt": request.prompt_text,
            "n": 1,
            "size": pick_size(request),
        }
        fields.update({k: request.params[k] for k in card.params if k in request.params})
        if not model.startswith("gpt-image"):
            fields["response_format"] = "b64_json"
        source = request.single("image")
        if request.task == Task.IMAGE_TO_IMAGE and source is not None:
            files = {"image": (source.path.name, source.path.read_bytes(), "image/png")}
            data = {k: str(v) for k, v in fields.items()}
            response = await self._send(request, "images/edits", data=data, files=files)
        else:
            response = await self._send(request, "images/generations", json=fields)
        body = response.json()
        item = (body.get("data") or [{}])[0]
        dest = output_name(request, 0, ArtifactType.IMAGE)
        if item.get("b64_json"):
            try:
                dest.write_bytes(base64.b64decode(item["b64_json"], validate=True))
            except (binascii.Error, ValueError):
                raise BadOutput("OpenAI's image is not valid base64", where=where) from None
            check_media(dest, ArtifactType.IMAGE, where)
            outputs = [OutputFile(ArtifactType.IMAGE, dest)]
        elif item.get("url"):
            outputs = await collect_outputs(self.http, request, {ArtifactType.IMAGE: item["url"]})
        else:
            raise BadOutput("OpenAI answered without an image", where=where)
        return Result(
            outputs=outputs,
            cost_usd=card.price_for(images=1),
            request_id=response.headers.get("x-request-id"),
            metadata={"size": fields["size"], "usage": body.get("usage")},
        )

    async def _speech(self, request: Request, report: Reporter) -> Result:
        card, where = request.card, where_of(request)
        text = str(request.field("text") or request.prompt_text)
        fmt = str(card.extra.get("response_format", "wav"))
        payload: dict[str, Any] = {
            "model": card.endpoint or card.model,
            "input": text,
            "voice": request.field("voice") or card.extra.get("voice", "alloy"),
            "response_format": fmt,
        }
        if request.field("rate"):
            payload["speed"] = float(request.field("rate"))
        if request.field("emotion") and "tts-1" not in payload["model"]:
            payload["instructions"] = f"Speak with a {request.field('emotion')} tone."
        dest = output_name(request, 0, ArtifactType.AUDIO).with_suffix(f".{fmt}")
        ttfb_ms, headers = await stream_to_file(
            self.http,
            "POST",
            f"{self.base_url(card)}/audio/speech",
            dest,
            where=where,
            env=self.env,
            report=report,
            secrets=self.secrets(request),
            classify=classify,
            json=payload,
            headers=self._headers(request),
        )
        check_media(dest, ArtifactType.AUDIO, where)
        seconds = audio_seconds(dest)
        outputs = [OutputFile(ArtifactType.AUDIO, dest, {"duration_s": seconds})]
        if ArtifactType.SUBTITLES in request.outputs:
            srt = write_srt(text, seconds or 0.0, output_name(request, 1, ArtifactType.SUBTITLES))
            outputs.append(OutputFile(ArtifactType.SUBTITLES, srt, {"timing": "estimated"}))
        return Result(
            outputs=outputs,
            cost_usd=card.price_for(chars=len(text)),
            request_id=headers.get("x-request-id"),
            metadata={"ttfb_ms": round(ttfb_ms, 1), "chars": len(text)},
        )
