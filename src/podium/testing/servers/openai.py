"""A loopback server speaking OpenAI's image and speech API (api.openai.com/v1).

``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart) answer
``{"created", "data": [{"b64_json"}], "usage"}`` for ``gpt-image-*`` models (and ``url`` items
for ``dall-e-*`` unless ``response_format`` is ``b64_json``); ``POST /v1/audio/speech`` streams
the audio in the requested ``response_format`` (mp3 by default; wav, flac, opus, aac, pcm).
Errors are ``{"error": {"message", "type", "param", "code"}}``: ``invalid_api_key`` (401),
``rate_limit_exceeded`` (429 with ``retry-after``), ``insufficient_quota`` (429),
``moderation_blocked`` (400), ``server_error`` (500/503).
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from podium.testing.servers import media
from podium.testing.servers.base import Loopback, broken_stream

_AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
}


def error(status: int, message: str, type_: str, code: str | None, **headers: str) -> Response:
    """OpenAI's error document."""
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return JSONResponse(
        body, status, headers={"x-request-id": f"req_{uuid.uuid4().hex}", **headers}
    )


def speech_seconds(text: str, speed: float = 1.0) -> float:
    """How long the loopback voice speaks ``text`` (about 15 characters a second)."""
    return max(0.5, len(text) / 15.0 / max(0.25, speed))


class OpenAIServer(Loopback):
    """OpenAI's images and speech endpoints on loopback."""

    name = "openai"

    def routes(self) -> list[BaseRoute]:
        """OpenAI's image and speech routes."""
        return [
            Route("/v1/images/generations", self.generate, methods=["POST"]),
            Route("/v1/images/edits", self.edit, methods=["POST"]),
            Route("/v1/audio/speech", self.speech, methods=["POST"]),
            Route("/files/{name}", self.file, methods=["GET"]),
        ]

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.files: dict[str, bytes] = {}

    def _gate_error(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            return error(
                429,
                "Rate limit reached for requests per min. Please try again in 1s.",
                "requests",
                "rate_limit_exceeded",
                **{"retry-after": f"{retry_after or 1:g}"},
            )
        return error(
            status, "The server had an error while processing your request.", "server_error", None
        )

    async def _check(self, request: Request, route: str) -> Response | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or len(header) <= 7:
            return error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        denied = await self.gate(route, self._gate_error)
        if denied is not None:
            return denied
        if self.faults.quota:
            return error(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if self.faults.refuse:
            return error(
                400,
                "Your request was rejected as a result of our safety system.",
                "image_generation_user_error" if route != "speech" else "invalid_request_error",
                "moderation_blocked",
            )
        return None

    async def _images(
        self, model: str, prompt: str, n: int, size: str, fmt: str, b64: bool
    ) -> Response:
        if self.faults.take("drop_body"):
            return StreamingResponse(broken_stream(b'{"created": 1, "data": [{"b64_json": "iVBOR'))
        width, height = (int(x) for x in size.split("x")) if "x" in size else (1024, 1024)
        data = []
        for i in range(max(1, n)):
            raw = media.CORRUPT if self.faults.corrupt else media.png(width, height, f"{prompt}{i}")
            if b64:
                data.append({"b64_json": base64.b64encode(raw).decode()})
            else:
                name = f"{uuid.uuid4().hex}.{fmt}"
                self.files[name] = raw
                data.append({"url": f"{self.url}/files/{name}", "revised_prompt": prompt})
        body: dict[str, Any] = {"created": int(time.time()), "data": data}
        if model.startswith("gpt-image"):
            tokens = max(1, len(prompt.split()))
            body.update(
                background="opaque",
                output_format=fmt,
                quality="medium",
                size=size,
                usage={
                    "input_tokens": tokens,
                    "output_tokens": 1056 * n,
                    "total_tokens": tokens + 1056 * n,
                    "input_tokens_details": {"text_tokens": tokens, "image_tokens": 0},
                },
            )
        return JSONResponse(body, headers={"x-request-id": f"req_{uuid.uuid4().hex}"})

    async def generate(self, request: Request) -> Response:
        """Generate images."""
        denied = await self._check(request, "images")
        if denied is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return error(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
            )
        if not body.get("prompt"):
            return error(
                400,
                "Missing required parameter: 'prompt'.",
                "invalid_request_error",
                "missing_required_parameter",
            )
        model = str(body.get("model") or "dall-e-2")
        size = str(body.get("size") or "1024x1024")
        size = "1024x1024" if size == "auto" else size
        b64 = model.startswith("gpt-image") or body.get("response_format") == "b64_json"
        fmt = str(body.get("output_format") or "png")
        return await self._images(
            model, str(body["prompt"]), int(body.get("n") or 1), size, fmt, b64
        )

    async def edit(self, request: Request) -> Response:
        """Edit an image (multipart form)."""
        denied = await self._check(request, "edits")
        if denied is not None:
            return denied
        async with request.form() as form:  # closes the spooled upload files
            has_image = bool(form.getlist("image") or form.getlist("image[]"))
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not has_image or not fields.get("prompt"):
            return error(
                400,
                "Missing required parameter: 'image' or 'prompt'.",
                "invalid_request_error",
                "missing_required_parameter",
            )
        model = fields.get("model") or "dall-e-2"
        size = fields.get("size") or "1024x1024"
        size = "1024x1024" if size == "auto" else size
        b64 = model.startswith("gpt-image") or fields.get("response_format") == "b64_json"
        n = int(fields.get("n") or 1)
        return await self._images(model, fields["prompt"], n, size, "png", b64)

    async def speech(self, request: Request) -> Response:
        """Speak the input, streamed in chunks."""
        denied = await self._check(request, "speech")
        if denied is not None:
            return denied
        body = await request.json()
        text, voice = str(body.get("input") or ""), body.get("voice")
        if not text or not voice:
            return error(
                400,
                "Missing required parameter: 'input' or 'voice'.",
                "invalid_request_error",
                "missing_required_parameter",
            )
        if len(text) > 4096:
            return error(
                400, "input is too long: 4096 characters at most.", "invalid_request_error", None
            )
        fmt = str(body.get("response_format") or "mp3")
        if fmt not in _AUDIO_TYPES:
            return error(
                400, f"Invalid value for response_format: {fmt!r}.", "invalid_request_error", None
            )
        seconds = speech_seconds(text, float(body.get("speed") or 1.0))
        if self.faults.corrupt:
            audio = media.CORRUPT
        elif fmt == "wav":
            audio = media.wav(seconds)
        elif fmt == "pcm":
            audio = media.pcm16(seconds)
        else:
            audio = media.encoded_audio(round(seconds, 2), fmt)
        drop = self.faults.take("drop_body")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(audio), 4096):
                if drop and start > 0:
                    raise ConnectionResetError("fault knob: connection dropped mid-body")
                yield audio[start : start + 4096]
                await asyncio.sleep(0.002)

        return StreamingResponse(
            chunks(),
            media_type=_AUDIO_TYPES[fmt],
            headers={"x-request-id": f"req_{uuid.uuid4().hex}"},
        )

    async def file(self, request: Request) -> Response:
        """An image behind a ``url`` item."""
        data = self.files.get(request.path_params["name"])
        if data is None:
            return error(404, "Not found", "invalid_request_error", None)
        return Response(data, media_type="image/png")
