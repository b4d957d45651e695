"""A loopback server speaking ElevenLabs' text-to-speech and music API (api.elevenlabs.io).

``POST /v1/text-to-speech/{voice_id}[/stream]`` and ``POST /v1/music[/stream]`` with the
``xi-api-key`` header answer audio in ``?output_format=`` (``mp3_44100_128`` by default,
``pcm_<rate>`` raw 16-bit PCM, ``wav_<rate>``), streamed in chunks, with ``request-id`` and
``x-character-count`` headers. Errors are ``{"detail": {"status", "message"}}``:
``invalid_api_key`` / ``quota_exceeded`` (401), ``too_many_concurrent_requests`` (429),
``system_busy`` (503), ``bad_prompt`` (400, with a ``prompt_suggestion``); validation errors are
``{"detail": [{"loc", "msg", "type"}]}`` (422).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from podium.testing.servers import media
from podium.testing.servers.base import Loopback


def detail(status_code: int, status: str, message: str, **extra: object) -> Response:
    """ElevenLabs' error document."""
    body: dict[str, object] = {"status": status, "message": message, **extra}
    return JSONResponse({"detail": body}, status_code)


def _audio(seconds: float, output_format: str) -> tuple[bytes, str] | None:
    match = re.fullmatch(r"(mp3|pcm|wav)_(\d+)(?:_\d+)?", output_format)
    if match is None:
        return None
    codec, rate = match.group(1), int(match.group(2))
    if codec == "pcm":
        return media.pcm16(seconds, rate), "audio/pcm"
    if codec == "wav":
        return media.wav(seconds, rate), "audio/wav"
    return media.encoded_audio(round(seconds, 2), "mp3", rate), "audio/mpeg"


class ElevenLabsServer(Loopback):
    """ElevenLabs' speech and music endpoints on loopback."""

    name = "elevenlabs"

    def routes(self) -> list[BaseRoute]:
        """ElevenLabs' speech and music routes."""
        return [
            Route("/v1/text-to-speech/{voice_id}/stream", self.speech, methods=["POST"]),
            Route("/v1/text-to-speech/{voice_id}", self.speech, methods=["POST"]),
            Route("/v1/music/stream", self.music, methods=["POST"]),
            Route("/v1/music", self.music, methods=["POST"]),
        ]

    def _gate_error(self, status: int, retry_after: float | None) -> Response:
        if status == 429:
            response = detail(
                429,
                "too_many_concurrent_requests",
                "Too many concurrent requests for your subscription.",
            )
            response.headers["retry-after"] = f"{retry_after or 1:g}"
            return response
        return detail(
            503, "system_busy", "The system is experiencing heavy traffic, please try again."
        )

    async def _check(self, request: Request, route: str, cost: int) -> Response | None:
        if not request.headers.get("xi-api-key"):
            return detail(401, "invalid_api_key", "Invalid API key")
        denied = await self.gate(route, self._gate_error)
        if denied is not None:
            return denied
        if self.faults.quota:
            return detail(
                401,
                "quota_exceeded",
                f"This request exceeds your quota. You have 0 "
                f"credits remaining, while {cost} credits are required for this request.",
            )
        if self.faults.refuse:
            return detail(
                400,
                "bad_prompt",
                "The prompt violates our Terms of Service.",
                data={"prompt_suggestion": "A gentle acoustic melody"},
            )
        return None

    def _stream(self, audio: bytes, media_type: str, chars: int) -> Response:
        if self.faults.corrupt:
            audio = media.CORRUPT
        drop = self.faults.take("drop_body")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(audio), 4096):
                if drop and start > 0:
                    raise ConnectionResetError("fault knob: connection dropped mid-body")
                yield audio[start : start + 4096]
                await asyncio.sleep(0.002)

        headers = {"request-id": uuid.uuid4().hex, "x-character-count": str(chars)}
        return StreamingResponse(chunks(), media_type=media_type, headers=headers)

    async def speech(self, request: Request) -> Response:
        """Speak ``text`` in the voice of the path."""
        body = await request.json()
        text = str(body.get("text") or "")
        denied = await self._check(request, "speech", len(text))
        if denied is not None:
            return denied
        if not text:
            return JSONResponse(
                {
                    "detail": [
                        {
                            "loc": ["body", "text"],
                            "msg": "field required",
                            "type": "value_error.missing",
                        }
                    ]
                },
                422,
            )
        fmt = request.query_params.get("output_format", "mp3_44100_128")
        audio = _audio(max(0.5, len(text) / 15.0), fmt)
        if audio is None:
            return detail(400, "invalid_output_format", f"Unsupported output_format {fmt!r}")
        return self._stream(audio[0], audio[1], len(text))

    async def music(self, request: Request) -> Response:
        """Compose ``music_length_ms`` of music for ``prompt``."""
        body = await request.json()
        denied = await self._check(request, "music", 1000)
        if denied is not None:
            return denied
        if not body.get("prompt") and not body.get("composition_plan"):
            return JSONResponse(
                {
                    "detail": [
                        {
                            "loc": ["body", "prompt"],
                            "msg": "prompt or composition_plan is required",
                            "type": "value_error",
                        }
                    ]
                },
                422,
            )
        length_ms = int(body.get("music_length_ms") or 30000)
        if not 3000 <= length_ms <= 300000:
            return JSONResponse(
                {
                    "detail": [
                        {
                            "loc": ["body", "music_length_ms"],
                            "msg": "must be between 3000 and 300000",
                            "type": "value_error",
                        }
                    ]
                },
                422,
            )
        fmt = request.query_params.get("output_format", "mp3_44100_128")
        audio = _audio(length_ms / 1000.0, fmt)
        if audio is None:
            return detail(400, "invalid_output_format", f"Unsupported output_format {fmt!r}")
        return self._stream(audio[0], audio[1], 0)
