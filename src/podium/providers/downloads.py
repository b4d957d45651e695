"""Outputs of remote providers: downloads and streamed bodies written under the attempt's
``work_dir`` and checked to be the media they claim to be before they count (the runner then
verifies them fully), plus the estimated subtitles of speech that came without timings.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from podium.errors import BadOutput, Transient
from podium.providers.base import Event, OutputFile, Reporter, Request
from podium.providers.remote import Classify, status_error, where_of
from podium.spec.vocabulary import ArtifactType

_MAGIC: dict[ArtifactType, tuple[bytes, ...]] = {
    ArtifactType.IMAGE: (b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"GIF8"),
    ArtifactType.MESH: (b"glTF",),
}


def check_media(path: Path, kind: ArtifactType, where: str) -> None:
    """Reject a download that is not the media it claims to be (the runner verifies fully).

    Raises:
        BadOutput: empty, undecodable or of the wrong kind.
    """
    head = path.read_bytes()[:64] if path.exists() else b""
    problem = None
    if not head:
        problem = "is empty"
    elif kind == ArtifactType.IMAGE:
        problem = _check_image(path)
    elif kind == ArtifactType.AUDIO:
        problem = _check_audio(head)
    elif kind == ArtifactType.VIDEO and head[4:8] != b"ftyp" and head[:4] != b"\x1aE\xdf\xa3":
        problem = "is not an MP4/WebM video"
    elif kind in _MAGIC and not head.startswith(_MAGIC[kind]):
        problem = f"is not a {kind.value} file"
    if problem:
        raise BadOutput(
            f"the provider's {kind.value} output {path.name} {problem}",
            where=where,
            hint="Podium falls back to the next model",
        )


def _check_image(path: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return "does not decode as an image"
    return None


def _check_audio(head: bytes) -> str | None:
    if head.startswith((b"RIFF", b"fLaC", b"OggS", b"ID3")):
        return None
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa"):
        return None  # an MP3 frame sync without an ID3 tag
    return "is not WAV, FLAC, Ogg or MP3 audio"


async def download(
    client: httpx.AsyncClient,
    url: str,
    dest: Path,
    kind: ArtifactType,
    *,
    where: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> Path:
    """Stream ``url`` to ``dest`` and check it is the ``kind`` of media expected.

    A connection cut mid-body is :class:`Transient`; a body that is not the media is
    :class:`BadOutput`.
    """
    if url.startswith("data:"):
        dest.write_bytes(base64.b64decode(url.split(",", 1)[1]))
        check_media(dest, kind, where)
        return dest
    try:
        async with client.stream("GET", url, headers=headers, params=params) as response:
            if not response.is_success:
                await response.aread()
                raise status_error(response, where, (), "the provider's key")
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
    except httpx.TransportError as exc:
        raise Transient(
            f"download of {url.split('?')[0]} broke off: {type(exc).__name__}", where=where
        ) from None
    check_media(dest, kind, where)
    return dest


def output_name(request: Request, index: int, kind: ArtifactType, url: str = "") -> Path:
    """Where output ``index`` goes: ``work_dir/<step>-<i>.<ext>`` (extension from the URL)."""
    from podium.spec.vocabulary import FILE_EXTENSIONS

    suffix = Path(url.split("?")[0]).suffix.lower()
    ext = suffix[1:] if 1 < len(suffix) <= 5 else FILE_EXTENSIONS[kind]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.step_id)
    return request.work_dir / f"{safe}-{index}.{ext}"


DEFAULT_OUTPUT_PATHS: dict[ArtifactType, tuple[str, ...]] = {
    ArtifactType.IMAGE: ("images.0.url", "image.url"),
    ArtifactType.VIDEO: ("video.url",),
    ArtifactType.AUDIO: ("audio.url", "audio_file.url", "audio_url.url"),
    ArtifactType.MESH: ("model_mesh.url", "model_glb.url", "mesh.url"),
}


def audio_seconds(path: Path) -> float | None:
    """The duration of an audio file, or ``None`` if it cannot be read."""
    try:
        import soundfile

        return float(soundfile.info(str(path)).duration)
    except Exception:  # not a format libsndfile reads (e.g. MP3 on old builds): ask ffprobe
        try:
            from podium.media.ffmpeg import probe

            return probe(path).duration_s
        except Exception:
            return None


def write_srt(text: str, seconds: float, dest: Path) -> Path:
    """Subtitles for speech whose provider gave no timings: one cue per sentence, timed in
    proportion to its length (metadata marks the timing as estimated)."""
    import re

    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()] or [text]
    total = sum(len(s) for s in sentences) or 1
    start, lines = 0.0, []
    for i, sentence in enumerate(sentences, 1):
        end = start + seconds * len(sentence) / total
        lines.append(f"{i}\n{_srt_time(start)} --> {_srt_time(end)}\n{sentence}\n")
        start = end
    dest.write_text("\n".join(lines), encoding="utf-8")
    return dest


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def pcm_to_wav(pcm: Path, dest: Path, sample_rate: int) -> Path:
    """Wrap raw mono 16-bit PCM (as OpenAI and ElevenLabs stream it) in a WAV file."""
    import wave

    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.read_bytes())
    return dest


async def collect_outputs(
    client: httpx.AsyncClient,
    request: Request,
    urls: Mapping[ArtifactType, str],
    *,
    headers: Mapping[str, str] | None = None,
) -> list[OutputFile]:
    """Download one output per requested type, in the order of ``request.outputs``.

    Subtitles the provider did not make are written from the prompt text and the audio's
    length (``timing: estimated``).

    Raises:
        BadOutput: a requested output is missing or not valid media.
        Transient: a download broke off.
    """
    where = where_of(request)
    files: list[OutputFile] = []
    for index, kind in enumerate(request.outputs):
        url = urls.get(kind)
        if url is not None:
            path = await download(
                client,
                url,
                output_name(request, index, kind, url),
                kind,
                where=where,
                headers=headers,
            )
            meta: dict[str, Any] = {}
            if kind == ArtifactType.AUDIO:
                meta["duration_s"] = audio_seconds(path)
            files.append(OutputFile(kind, path, meta))
        elif kind == ArtifactType.SUBTITLES and files and files[0].type == ArtifactType.AUDIO:
            seconds = files[0].metadata.get("duration_s") or 0.0
            text = str(request.field("text") or request.prompt_text)
            dest = output_name(request, index, kind)
            files.append(OutputFile(kind, write_srt(text, seconds, dest), {"timing": "estimated"}))
        else:
            raise BadOutput(
                f"the provider's response has no {kind.value} output",
                where=where,
                hint="check the card's extra.outputs paths against the model's schema",
            )
    return files


async def stream_to_file(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    dest: Path,
    *,
    where: str,
    env: str,
    report: Reporter,
    secrets: Iterable[str] = (),
    classify: Classify | None = None,
    **kwargs: Any,
) -> tuple[float, httpx.Headers]:
    """Stream a response body (e.g. speech) into ``dest`` as it arrives.

    Each chunk is reported as a ``partial`` event on the growing file; the first one also
    carries the time to first byte.

    Returns:
        The time to first byte in ms, and the response headers.

    Raises:
        PodiumError: the translated failure (a body cut short is Transient).
    """
    secrets = tuple(secrets)
    started = time.monotonic()
    ttfb_ms: float | None = None
    total = 0
    try:
        async with client.stream(method, url, **kwargs) as response:
            if not response.is_success:
                await response.aread()
                err = classify(response, where) if classify else None
                raise err or status_error(response, where, secrets, env)
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    if not chunk:
                        continue
                    if ttfb_ms is None:
                        ttfb_ms = (time.monotonic() - started) * 1000.0
                    out.write(chunk)
                    out.flush()
                    total += len(chunk)
                    data: dict[str, Any] = {"bytes": total}
                    if total == len(chunk):
                        data["ttfb_ms"] = ttfb_ms
                    report(Event("partial", path=dest, data=data))
            headers = response.headers
    except httpx.TimeoutException as exc:
        raise Transient(f"{method} {url} timed out ({type(exc).__name__})", where=where) from None
    except httpx.TransportError as exc:
        raise Transient(
            f"{method} {url} broke off after {total} bytes: {type(exc).__name__}", where=where
        ) from None
    return (ttfb_ms if ttfb_ms is not None else (time.monotonic() - started) * 1000.0), headers
