"""What every remote adapter shares: HTTP calls translated into failure classes, credentials,
base URLs and polling pace, inputs as data URIs, and JSON paths into vendor responses.

Adapters call :func:`send` for every request so that a connection reset, a 5xx or a 429 becomes
the same failure class everywhere; they pass a ``classify`` hook for the vendor's own error
bodies (content policy, quota). Secrets never reach a message: vendor text is cut short and
every credential of the request is masked before it is quoted. Downloads and streamed bodies
are in :mod:`podium.providers.downloads`.
"""

from __future__ import annotations

import base64
import email.utils
import mimetypes
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import httpx

from podium.catalog.card import ModelCard
from podium.errors import (
    InvalidInput,
    PodiumError,
    QuotaExceeded,
    Transient,
    Unavailable,
)
from podium.providers.base import InputArtifact, Provider, Request

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


def mime_of(artifact: InputArtifact) -> str:
    """The input file's MIME type, guessed from its name."""
    return mimetypes.guess_type(artifact.path.name)[0] or "application/octet-stream"


def data_uri(artifact: InputArtifact) -> str:
    """An input file as a ``data:`` URI, which fal and Replicate accept for file inputs."""
    encoded = base64.b64encode(artifact.path.read_bytes()).decode("ascii")
    return f"data:{mime_of(artifact)};base64,{encoded}"


def large_inputs(request: Request) -> list[tuple[str, InputArtifact]]:
    """``(slot, artifact)`` of the card's file inputs bigger than ``extra.upload_over_bytes``
    (256 KiB): these are uploaded and sent by URL, smaller ones inline as data URIs."""
    limit = int(request.card.extra.get("upload_over_bytes", 256 * 1024))
    found = []
    for slot in request.card.extra.get("inputs") or {}:
        artifact = request.single(str(slot))
        if artifact is not None and artifact.path.stat().st_size > limit:
            found.append((str(slot), artifact))
    return found


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


def build_input(request: Request, files: Mapping[str, str] | None = None) -> dict[str, Any]:
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
            # an uploaded file's URL when the adapter uploaded it, else the file inline
            body[str(target)] = (files or {}).get(slot) or data_uri(artifact)
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
