"""What every remote adapter shares: HTTP calls translated into failure classes, downloads
checked before they count, inputs as data URIs, and JSON paths into vendor responses.

Adapters call :func:`send` for every request so that a connection reset, a 5xx or a 429 becomes
the same failure class everywhere; they pass a ``classify`` hook for the vendor's own error
bodies (content policy, quota). Secrets never reach a message: vendor text is cut short and
every credential of the request is masked before it is quoted.
"""

from __future__ import annotations

import base64
import email.utils
import mimetypes
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx

from podium.catalog.card import ModelCard
from podium.errors import (
    BadOutput,
    InvalidInput,
    PodiumError,
    QuotaExceeded,
    Transient,
    Unavailable,
)
from podium.providers.base import Event, InputArtifact, OutputFile, Provider, Reporter, Request
from podium.spec.vocabulary import ArtifactType

Classify = Callable[[httpx.Response, str], PodiumError | None]


def where_of(request: Request) -> str:
    """``step ID (provider/model)`` — where an attempt's error happened."""
    return f"step {request.step_id} ({request.card.id})"


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``****`` and cut to one short line."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    line = " ".join(text.split())
    return line if len(line) <= 240 else line[:237] + "..."


def retry_after_s(response: httpx.Response) -> float | None:
    """The response's Retry-After in seconds (delta-seconds or an HTTP date), if any."""
    raw = response.headers.get("retry-after") or response.headers.get("retry-after-ms")
    if raw is None:
        return None
    if "retry-after-ms" in response.headers and "retry-after" not in response.headers:
        try:
            return max(0.0, float(raw) / 1000.0)
        except ValueError:
            return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def body_text(response: httpx.Response) -> str:
    """The vendor's error text (``detail``, ``error.message``, ``message``) or the raw body."""
    try:
        data = response.json()
    except ValueError:
        return response.text
    if isinstance(data, Mapping):
        err = data.get("error")
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])
        for key in ("detail", "message", "error", "title"):
            value = data.get(key)
            if isinstance(value, Mapping):
                value = value.get("message") or value.get("msg") or value
            if isinstance(value, list) and value and isinstance(value[0], Mapping):
                value = value[0].get("msg") or value[0]
            if value:
                return str(value)
    return str(data)


def status_error(
    response: httpx.Response, where: str, secrets: Iterable[str], env: str
) -> PodiumError:
    """The failure class of an HTTP error status, when the vendor's body said nothing finer."""
    code = response.status_code
    text = mask(body_text(response), secrets)
    if code == 429:
        return Transient(
            f"rate limited (HTTP 429): {text}",
            where=where,
            retry_after=retry_after_s(response),
            hint="Podium retries after the provider's Retry-After",
        )
    if code >= 500:
        return Transient(f"provider error (HTTP {code}): {text}", where=where)
    if code in (401, 403):
        return Unavailable(
            f"the provider refused the credentials (HTTP {code}): {text}",
            where=where,
            hint=f"check {env}",
        )
    if code == 402:
        return QuotaExceeded(
            f"out of credits (HTTP 402): {text}", where=where, hint="add credits or fall back"
        )
    return InvalidInput(
        f"the provider rejected the request (HTTP {code}): {text}",
        where=where,
        hint="check the step's params against `podium models show`",
    )


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    where: str,
    env: str,
    secrets: Iterable[str] = (),
    classify: Classify | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One HTTP call; any failure becomes a failure class of :mod:`podium.errors`.

    Args:
        client: the injected client.
        method: HTTP method.
        url: absolute URL.
        where: where to say the error happened.
        env: the credential's env var, named in hints.
        secrets: values to mask in any message.
        classify: the vendor's own reading of an error response (``None`` to fall through).
        **kwargs: passed to ``client.request``.

    Raises:
        PodiumError: the translated failure.
    """
    secrets = tuple(secrets)
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise Transient(f"{method} {url} timed out ({type(exc).__name__})", where=where) from None
    except httpx.TransportError as exc:
        # connection refused/reset or a body cut short: the provider may be fine next time
        raise Transient(
            f"{method} {url} failed: {type(exc).__name__}: {mask(str(exc), secrets)}", where=where
        ) from None
    if response.is_success:
        return response
    if classify is not None:
        err = classify(response, where)
        if err is not None:
            raise err
    raise status_error(response, where, secrets, env)


def data_uri(artifact: InputArtifact) -> str:
    """An input file as a ``data:`` URI, which fal and Replicate accept for file inputs."""
    mime = mimetypes.guess_type(artifact.path.name)[0] or "application/octet-stream"
    encoded = base64.b64encode(artifact.path.read_bytes()).decode("ascii")
    return f"data:{mime};base64,{encoded}"


def dig(data: Any, path: str) -> Any:
    """``data`` at a dotted path such as ``images.0.url`` (``None`` when absent)."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            return None
        if current is None:
            return None
    return current


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


def secrets_of(request: Request) -> tuple[str, ...]:
    """The request's credential values, to mask in messages."""
    return tuple(v for v in request.credentials.values() if v)


class Backoff:
    """Polling intervals that start fast and slow down (polling is not retrying).

    Args:
        first_s: the first interval.
        max_s: the longest interval.
    """

    def __init__(self, first_s: float = 0.05, max_s: float = 2.0) -> None:
        self.next_s = first_s
        self.max_s = max_s

    def __call__(self) -> float:
        """The next interval to sleep."""
        current = self.next_s
        self.next_s = min(self.max_s, self.next_s * 1.5)
        return current


def build_input(request: Request) -> dict[str, Any]:
    """A model's JSON input from the card's mapping of prompt, params, seed and input files.

    The card says: ``extra.defaults`` (sent as is), ``extra.prompt_field`` (default
    ``prompt``), ``param_map`` (structured fields or params -> the model's names), declared
    ``params`` (passed through by name), ``extra.seed_field`` (when the card has ``seed``),
    ``extra.size_field`` (``{width, height}`` as one object), ``extra.inputs`` (input slots
    -> the model's file fields, sent as data URIs) and ``extra.format`` (number -> string
    templates such as ``"{:g}s"``).
    """
    card = request.card
    body: dict[str, Any] = dict(card.extra.get("defaults") or {})
    if request.prompt_text:
        body[str(card.extra.get("prompt_field", "prompt"))] = request.prompt_text
    for field_name, target in card.param_map.items():
        value = request.field(field_name)
        if value not in (None, ""):
            body[target] = value
    for name in card.params:
        if name in request.params:
            body[name] = request.params[name]
    if request.seed is not None and "seed" in card.capabilities:
        body[str(card.extra.get("seed_field", "seed"))] = request.seed
    size_field = card.extra.get("size_field")
    width, height = request.params.get("width"), request.params.get("height")
    if size_field and width and height:
        body[str(size_field)] = {"width": int(width), "height": int(height)}
    for slot, target in (card.extra.get("inputs") or {}).items():
        artifact = request.single(slot)
        if artifact is not None:
            body[str(target)] = data_uri(artifact)
    # some models take numbers as strings ("5", "8s"): ``extra.format`` holds the template
    for target, template in (card.extra.get("format") or {}).items():
        if target in body and isinstance(body[target], int | float):
            body[target] = str(template).format(body[target])
    return body


class RemoteProvider(Provider):
    """Base of the HTTP adapters: base URL, credentials and polling pace from settings.

    Subclasses set ``name``, ``env`` (the credential's env var) and ``url_setting`` (the
    settings field holding the base URL).
    """

    remote: ClassVar[bool] = True
    env: ClassVar[str] = ""
    url_setting: ClassVar[str] = ""

    @property
    def http(self) -> httpx.AsyncClient:
        """The injected client (a provider built without one cannot call out)."""
        if self.client is None:
            raise Unavailable(f"provider {self.name} was built without an HTTP client")
        return self.client

    def base_url(self, card: ModelCard | None = None) -> str:
        """The provider's base URL: the card's ``extra.base_url``, else the settings field."""
        if card is not None and card.extra.get("base_url"):
            return str(card.extra["base_url"]).rstrip("/")
        return str(getattr(self.settings, self.url_setting)).rstrip("/")

    def key(self, request: Request) -> str:
        """The credential for ``request`` (resolved by the runner, else from settings).

        Raises:
            Unavailable: it is not set, naming the env var.
        """
        env = request.card.credentials[0] if request.card.credentials else self.env
        value = request.credentials.get(env) or self.settings.secret(env)
        if not value:
            raise Unavailable(f"{env} is not set", where=where_of(request), hint=f"export {env}")
        return value

    def secrets(self, request: Request) -> tuple[str, ...]:
        """Every credential value that must never appear in a message."""
        values = set(secrets_of(request))
        for env in (*request.card.credentials, self.env):
            value = self.settings.secret(env) if env else None
            if value:
                values.add(value)
        return tuple(values)

    def backoff(self, card: ModelCard) -> Backoff:
        """The polling pace for ``card`` (``extra.poll_s`` / ``extra.poll_max_s``)."""
        return Backoff(
            float(card.extra.get("poll_s", 0.25)), float(card.extra.get("poll_max_s", 3))
        )


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
