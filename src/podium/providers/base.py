"""The provider protocol: a provider turns a :class:`Request` into outputs.

A provider is one module implementing :class:`Provider`, registered by the entry point group
``podium.providers`` (name -> class). It never imports plan, execute, another provider or the
store. It reports progress and partial outputs through a :data:`Reporter`, the provider's request
id through :meth:`Provider.submit` (the runner journals it *before* waiting), and translates every
vendor error into a failure class of :mod:`podium.errors` at its edge. Retries, timeouts and
fallbacks are the runner's business, never a provider's.

Lifecycle of one attempt::

    job = await provider.submit(request, report)       # request id known here (remote)
    result = await provider.wait(job, report)         # outputs on disk, cost known
    # or, after a crash:  job = await provider.resume(request, saved_state)
    # or:                 await provider.cancel(job)
"""

from __future__ import annotations

import abc
import importlib.metadata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx

from podium.catalog.card import ModelCard
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task


@dataclass(frozen=True)
class InputArtifact:
    """An artifact handed to a provider as input.

    Attributes:
        type: artifact type.
        path: a readable file.
        sha256: content hash.
        metadata: media metadata (width, height, duration_s, scene, ...).
    """

    type: ArtifactType
    path: Path
    sha256: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The file's text, stripped; a small one is read once per content (see ``_TEXTS``)."""
        known = _TEXTS.get(self.sha256)
        if known is not None:
            return known
        text = self.path.read_text(encoding="utf-8").strip()
        if len(text) <= 16_384:
            if len(_TEXTS) >= _TEXTS_KEPT:
                _TEXTS.clear()  # a whole new generation: simpler than LRU, and still bounded
            _TEXTS[self.sha256] = text
        return text


# the text of small artifacts by sha256 (content-addressed, so never stale): every step that
# references one reads it into its prompt, and a wide fan-in reads the same file many times
_TEXTS: dict[str, str] = {}
_TEXTS_KEPT = 256

InputValue = InputArtifact | tuple[InputArtifact, ...]


@dataclass(frozen=True)
class Request:
    """Everything a provider needs for one attempt.

    Attributes:
        step_id: the step (and variant) this attempt serves, for messages.
        task: the task to run.
        card: the model card chosen.
        prompt: the structured prompt with references resolved (or a plain string).
        prompt_text: the prompt rendered for this model by its card.
        inputs: input slots -> artifacts.
        params: common and model-specific params, checked against the card.
        seed: the deterministic seed for this attempt.
        outputs: the artifact types expected, in order.
        work_dir: a fresh directory the provider writes its output files into.
        idempotency_key: stable per attempt; a remote submit is made at most once per key.
        timeout_s: the attempt's timeout (for providers that can pass it on).
        priority: when local workers are all busy, waiting requests start highest first: the
            runner gives each the longest chain of work still ahead of its step (seconds), so
            the critical path goes first.
        credentials: resolved secret values by env var name. Never logged.
    """

    step_id: str
    task: Task
    card: ModelCard
    prompt: str | Mapping[str, Any] | None
    prompt_text: str
    inputs: Mapping[str, InputValue]
    params: Mapping[str, Any]
    seed: int | None
    outputs: tuple[ArtifactType, ...]
    work_dir: Path
    idempotency_key: str
    timeout_s: float | None = None
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    priority: float = 0.0

    def field(self, name: str, default: Any = None) -> Any:
        """A structured prompt field, else a param, else ``default``."""
        if isinstance(self.prompt, Mapping) and self.prompt.get(name) not in (None, ""):
            return self.prompt[name]
        return self.params.get(name, default)

    def single(self, slot: str) -> InputArtifact | None:
        """The one artifact in ``slot`` (the first if it holds a list)."""
        value = self.inputs.get(slot)
        if value is None:
            return None
        if isinstance(value, tuple):
            return value[0] if value else None
        return value

    def many(self, slot: str) -> tuple[InputArtifact, ...]:
        """The artifacts in ``slot`` as a tuple."""
        value = self.inputs.get(slot)
        if value is None:
            return ()
        return value if isinstance(value, tuple) else (value,)


@dataclass
class OutputFile:
    """One output written by a provider.

    Attributes:
        type: artifact type.
        path: the file (inside the request's work_dir).
        metadata: what the provider knows (duration_s, scene, loudness, markers ...).
    """

    type: ArtifactType
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    """What an attempt produced.

    Attributes:
        outputs: output files, in the order of ``Request.outputs``.
        cost_usd: the actual cost reported by the provider (or computed from its price).
        request_id: the provider's request id, if remote.
        metadata: timings such as ``ttfb_ms``, provider logs, anything worth recording.
    """

    outputs: list[OutputFile]
    cost_usd: float = 0.0
    request_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


EventKind = Literal["queued", "started", "progress", "log", "partial"]


@dataclass(frozen=True)
class Event:
    """Progress of an attempt.

    Attributes:
        kind: ``queued`` (with ``position``), ``started``, ``progress`` (0..1), ``log``,
            ``partial`` (a partial output file, e.g. a voice chunk, in ``path``).
        progress: fraction done, when known.
        message: a log line or status text.
        path: a partial output file.
        data: anything else (queue position, chunk index, timing).
    """

    kind: EventKind
    progress: float | None = None
    message: str | None = None
    path: Path | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


Reporter = Callable[[Event], None]


def ignore_events(event: Event) -> None:
    """A reporter that drops events."""


@dataclass
class Job:
    """A submitted attempt.

    Attributes:
        request: the request.
        request_id: the provider's id (``None`` for local engines).
        state: JSON-ready data the provider needs to resume (status/result URLs ...);
            journaled by the runner with the request id.
    """

    request: Request
    request_id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


class Provider(abc.ABC):
    """Base of every provider.

    Args:
        settings: the process's settings (credentials are read through it).
        client: the shared ``httpx.AsyncClient`` for remote providers (injected).
    """

    name: ClassVar[str] = ""
    remote: ClassVar[bool] = False

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.client = client

    def check(self, card: ModelCard) -> str | None:
        """Why ``card`` cannot run here (missing key, engine not installed), or ``None``.

        The default checks that every credential env var is set.
        """
        for env in card.credentials:
            if not self.settings.secret(env):
                return f"{env} is not set"
        return None

    def estimate_cost(self, card: ModelCard, params: Mapping[str, Any]) -> float:
        """The expected cost in USD of one call with these params, from the card's price."""
        seconds = float(params.get("duration_s") or 0.0)
        chars = int(params.get("chars") or 0)
        return card.price_for(images=1, seconds=seconds, chars=chars)

    def max_cost(self, card: ModelCard, params: Mapping[str, Any]) -> float:
        """The most one call can cost; the runner reserves this before calling."""
        return self.estimate_cost(card, params)

    @abc.abstractmethod
    async def submit(self, request: Request, report: Reporter) -> Job:
        """Start the attempt; return once the provider has accepted it (request id known)."""

    @abc.abstractmethod
    async def wait(self, job: Job, report: Reporter) -> Result:
        """Wait for the attempt and return its outputs, written under ``work_dir``."""

    async def resume(self, request: Request, request_id: str, state: Mapping[str, Any]) -> Job:
        """Re-attach to an attempt submitted before a crash, by its request id.

        Local providers cannot resume; the runner re-runs their attempts.
        """
        raise NotImplementedError(f"{self.name} cannot resume attempts")

    async def find(self, request: Request) -> Job | None:
        """Find an attempt submitted with ``request.idempotency_key`` whose create response
        was lost (for providers whose create is not idempotent). ``None`` if there is none."""
        return None

    async def cancel(self, job: Job) -> None:  # noqa: B027 - optional hook
        """Cancel a running attempt (a remote cancel call); best effort."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources (not the injected client, which its owner closes)."""


def load_providers(group: str = "podium.providers") -> dict[str, type[Provider]]:
    """Provider classes registered by entry point. A broken plug-in warns, it does not crash."""
    found: dict[str, type[Provider]] = {}
    for ep in importlib.metadata.entry_points(group=group):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plug-in must not take Podium down
            warnings.warn(
                f"provider plug-in {ep.name!r} ({ep.value}) failed to load: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            warnings.warn(
                f"provider plug-in {ep.name!r} ({ep.value}) is not a Provider subclass",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        found[ep.name] = cls
    return found
