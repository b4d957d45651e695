"""The ``elevenlabs`` provider: text-to-speech streamed with its time to first byte, and music.

Speech: ``POST /v1/text-to-speech/{voice_id}/stream?output_format=...`` with ``xi-api-key``;
the voice is the prompt's ``voice`` looked up in the card's ``extra.voices`` (name -> voice id),
else ``extra.voice_id``; ``extra.output_format`` defaults to ``mp3_44100_128``. Music:
``POST /v1/music/stream`` with the prompt and ``music_length_ms`` from ``duration_s``. Both are
synchronous calls: nothing to resume, the runner re-runs an interrupted attempt.

Errors: ``quota_exceeded`` -> QuotaExceeded, ``bad_prompt`` -> Refused (ElevenLabs says what
to change), ``too_many_concurrent_requests`` / ``system_busy`` -> Transient, ``invalid_api_key``
-> Unavailable naming ``ELEVENLABS_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from podium.errors import PodiumError, QuotaExceeded, Refused, Transient, Unavailable
from podium.providers.base import Job, OutputFile, Reporter, Request, Result
from podium.providers.downloads import (
    audio_seconds,
    check_media,
    output_name,
    pcm_to_wav,
    stream_to_file,
    write_srt,
)
from podium.providers.remote import RemoteProvider, mask, retry_after_s, where_of
from podium.spec.vocabulary import ArtifactType, Task

DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", one of ElevenLabs' premade voices


def classify(response: httpx.Response, where: str) -> PodiumError | None:
    """ElevenLabs' reading of ``{"detail": {"status", "message"}}``, or ``None``."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return None
    if not isinstance(detail, Mapping):
        return None
    status, text = str(detail.get("status") or ""), mask(str(detail.get("message") or ""), ())
    if status == "quota_exceeded":
        return QuotaExceeded(
            f"ElevenLabs quota spent: {text}", where=where, hint="add credits or fall back"
        )
    if status == "bad_prompt":
        suggestion = (detail.get("data") or {}).get("prompt_suggestion")
        return Refused(
            f"ElevenLabs refused the prompt: {text}",
            where=where,
            hint=f"try: {suggestion!r}" if suggestion else "reword the prompt",
        )
    if status in ("too_many_concurrent_requests", "system_busy"):
        return Transient(
            f"ElevenLabs is busy ({status}): {text}",
            where=where,
            retry_after=retry_after_s(response),
        )
    if status in ("invalid_api_key", "missing_permissions"):
        return Unavailable(
            f"ElevenLabs refused the key ({status})", where=where, hint="check ELEVENLABS_API_KEY"
        )
    return None


class ElevenLabsProvider(RemoteProvider):
    """ElevenLabs speech and music."""

    name: ClassVar[str] = "elevenlabs"
    env: ClassVar[str] = "ELEVENLABS_API_KEY"
    url_setting: ClassVar[str] = "elevenlabs_url"

    async def submit(self, request: Request, report: Reporter) -> Job:
        """Nothing to submit ahead: the call happens in :meth:`wait`."""
        self.key(request)
        return Job(request=request)

    def _voice(self, request: Request) -> str:
        voice = request.field("voice")
        voices = request.card.extra.get("voices") or {}
        if voice and str(voice) in voices:
            return str(voices[str(voice)])
        if voice and len(str(voice)) == 20 and str(voice).isalnum():
            return str(voice)  # already a voice id
        return str(request.card.extra.get("voice_id", DEFAULT_VOICE))

    async def wait(self, job: Job, report: Reporter) -> Result:
        """Make the call, streaming the audio to disk."""
        request = job.request
        card, where = request.card, where_of(request)
        fmt = str(card.extra.get("output_format", "mp3_44100_128"))
        base = self.base_url(card)
        text = str(request.field("text") or request.prompt_text)
        if request.task == Task.TEXT_TO_MUSIC:
            seconds = float(request.field("duration_s") or card.extra.get("duration_s", 30))
            url = f"{base}/v1/music/stream"
            payload: dict[str, Any] = {
                "prompt": request.prompt_text,
                "music_length_ms": int(seconds * 1000),
                "model_id": card.endpoint or "music_v1",
            }
        else:
            url = f"{base}/v1/text-to-speech/{self._voice(request)}/stream"
            payload = {"text": text, "model_id": card.endpoint or card.model}
            if request.seed is not None and "seed" in card.capabilities:
                payload["seed"] = request.seed
        codec = fmt.split("_")[0]
        raw = output_name(request, 0, ArtifactType.AUDIO).with_suffix(
            ".pcm" if codec == "pcm" else f".{codec}"
        )
        ttfb_ms, headers = await stream_to_file(
            self.http,
            "POST",
            url,
            raw,
            where=where,
            env=self.env,
            report=report,
            secrets=self.secrets(request),
            classify=classify,
            params={"output_format": fmt},
            json=payload,
            headers={"xi-api-key": self.key(request)},
        )
        audio = (
            pcm_to_wav(raw, raw.with_suffix(".wav"), int(fmt.split("_")[1]))
            if codec == "pcm"
            else raw
        )
        check_media(audio, ArtifactType.AUDIO, where)
        seconds_out = audio_seconds(audio)
        outputs = [OutputFile(ArtifactType.AUDIO, audio, {"duration_s": seconds_out})]
        if ArtifactType.SUBTITLES in request.outputs:
            srt = write_srt(
                text, seconds_out or 0.0, output_name(request, 1, ArtifactType.SUBTITLES)
            )
            outputs.append(OutputFile(ArtifactType.SUBTITLES, srt, {"timing": "estimated"}))
        # music is billed by the length asked for (encoders pad the file a little)
        billed_s = float(payload["music_length_ms"]) / 1000 if "music_length_ms" in payload else 0.0
        cost = card.price_for(chars=len(text), seconds=billed_s or seconds_out or 0.0)
        return Result(
            outputs=outputs,
            cost_usd=cost,
            request_id=headers.get("request-id"),
            metadata={"ttfb_ms": round(ttfb_ms, 1), "characters": headers.get("x-character-count")},
        )
