"""The machinery every loopback server shares: fault knobs, counters, and a uvicorn thread.

A server is a Starlette app built by a :class:`Loopback` subclass. It binds 127.0.0.1 (port 0
picks a free one), runs in a daemon thread of the test process — or in the foreground for
``podium testing serve`` — and exposes two control routes besides the vendor's own:
``GET /_podium/stats`` (request and create counts, creates per idempotency key) and
``POST /_podium/faults`` (set knobs from another process, e.g. a test that SIGKILLs a runner).
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route


@dataclass
class Faults:
    """Fault knobs; counts apply to the next N vendor requests, flags to every one.

    Attributes:
        error_5xx: answer the next N vendor requests with a 5xx.
        rate_limit: answer the next N with 429 and ``Retry-After: retry_after_s``.
        retry_after_s: the Retry-After sent with a 429.
        slow_s: delay every vendor response by this long.
        corrupt: outputs are bytes that are not the media they claim to be.
        refuse: the prompt is refused by the vendor's content policy.
        quota: the account is out of credits / quota.
        drop_body: cut the connection in the middle of the next N responses' bodies.
        never_finish: queue jobs stay in progress forever.
        fail_after_accept: queue jobs are accepted, then fail while running.
        lose_create: the next N creates are made, but their responses never arrive.
        queue_s: how long a job waits in the queue.
        run_s: how long a job runs.
        ws_quiet: WebSocket servers (ComfyUI) accept the socket but never send an event.
    """

    error_5xx: int = 0
    rate_limit: int = 0
    retry_after_s: float = 1.0
    slow_s: float = 0.0
    corrupt: bool = False
    refuse: bool = False
    quota: bool = False
    drop_body: int = 0
    never_finish: bool = False
    fail_after_accept: bool = False
    lose_create: int = 0
    queue_s: float = 0.05
    run_s: float = 0.1
    ws_quiet: bool = False

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs by name (unknown names are an error)."""
        names = {f.name for f in dataclasses.fields(self)}
        for key, value in values.items():
            if key not in names:
                raise KeyError(f"unknown fault knob {key!r}; known: {', '.join(sorted(names))}")
            setattr(self, key, type(getattr(self, key))(value))

    def take(self, knob: str) -> bool:
        """Consume one of a counted knob; ``True`` when it fires."""
        left = int(getattr(self, knob))
        if left > 0:
            setattr(self, knob, left - 1)
            return True
        return False


@dataclass
class Stats:
    """What a server saw.

    Attributes:
        requests: vendor requests by route name.
        creates: creates (submits) per idempotency marker (``-`` when none was sent).
        cancels: cancel calls.
    """

    requests: Counter[str] = field(default_factory=Counter)
    creates: Counter[str] = field(default_factory=Counter)
    cancels: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "requests": dict(self.requests),
            "creates": dict(self.creates),
            "creates_total": sum(self.creates.values()),
            "cancels": self.cancels,
        }


async def broken_stream(first: bytes) -> AsyncIterator[bytes]:
    """Send ``first``, then break the connection (a body cut short)."""
    yield first
    await asyncio.sleep(0)
    raise ConnectionResetError("fault knob: connection dropped mid-body")


def dropped(status: int = 200, media_type: str = "application/json") -> Response:
    """A response whose body breaks off after a few bytes."""
    return StreamingResponse(
        broken_stream(b'{"partial": '), status_code=status, media_type=media_type
    )


class Loopback:
    """Base of the loopback servers.

    Args:
        host: address to bind (loopback by default).
        port: port (0 picks a free one).
    """

    name = ""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.faults = Faults()
        self.stats = Stats()
        self.lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(routes=[*self.routes(), *self._control_routes()])

    @property
    def url(self) -> str:
        """The server's root URL."""
        return f"http://{self.host}:{self.port}"

    def routes(self) -> list[BaseRoute]:
        """The vendor's routes."""
        raise NotImplementedError

    def _control_routes(self) -> list[BaseRoute]:
        async def stats(request: Request) -> Response:
            return JSONResponse(self.stats.to_dict())

        async def faults(request: Request) -> Response:
            try:
                self.faults.update(await request.json())
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(dataclasses.asdict(self.faults))

        return [
            Route("/_podium/stats", stats, methods=["GET"]),
            Route("/_podium/faults", faults, methods=["POST"]),
        ]

    async def gate(
        self, route: str, error: Callable[[int, float | None], Response]
    ) -> Response | None:
        """Count a vendor request and apply the slow/5xx/429 knobs.

        Args:
            route: route name for the stats.
            error: builds the vendor's error response for a status (and Retry-After).

        Returns:
            The fault response to send instead, or ``None`` to proceed.
        """
        self.stats.requests[route] += 1
        if self.faults.slow_s > 0:
            await asyncio.sleep(self.faults.slow_s)
        if self.faults.take("error_5xx"):
            return error(503, None)
        if self.faults.take("rate_limit"):
            return error(429, self.faults.retry_after_s)
        return None

    def config(self, log_level: str = "critical") -> uvicorn.Config:
        """The uvicorn configuration; quiet by default, since fault knobs break responses on
        purpose and uvicorn would log each one as an application error."""
        return uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level=log_level,
            lifespan="off",
            ws="websockets-sansio",
        )

    def start(self) -> Loopback:
        """Serve in a daemon thread; returns once the port accepts connections."""
        self._server = uvicorn.Server(self.config())
        self._thread = threading.Thread(
            target=self._server.run, name=f"loopback-{self.name}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"loopback {self.name} server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (``podium testing serve``)."""
        uvicorn.Server(self.config(log_level="warning")).run()

    def __enter__(self) -> Loopback:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class QueuedJob:
    """A job of a queue protocol; its fate is fixed by the fault knobs when it is created.

    Attributes:
        id: the vendor's request id.
        route: the model/app/workflow it runs.
        input: the request's input.
        created: ``time.monotonic()`` at creation.
        queue_s: time spent queued.
        run_s: time spent running.
        never_finish: stays running forever.
        fail: fails after being accepted.
        refuse: refused by the content policy when it runs.
        corrupt: its outputs are corrupt.
        start_timeout_s: a user deadline to start running (``None``: none).
        cancelled_at: when it was cancelled.
        extra: protocol-specific data (webhook, marker, client id ...).
    """

    id: str
    route: str
    input: dict[str, Any]
    created: float
    queue_s: float
    run_s: float
    never_finish: bool = False
    fail: bool = False
    refuse: bool = False
    corrupt: bool = False
    start_timeout_s: float | None = None
    cancelled_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, job_id: str, route: str, payload: dict[str, Any], faults: Faults) -> QueuedJob:
        """A new job whose fate follows the current knobs."""
        return cls(
            id=job_id,
            route=route,
            input=payload,
            created=time.monotonic(),
            queue_s=faults.queue_s,
            run_s=faults.run_s,
            never_finish=faults.never_finish,
            fail=faults.fail_after_accept,
            refuse=faults.refuse,
            corrupt=faults.corrupt,
        )

    def phase(self, now: float | None = None) -> str:
        """``queued``, ``running``, ``done``, ``cancelled`` or ``timed_out`` (never started)."""
        now = time.monotonic() if now is None else now
        elapsed = now - self.created
        if self.cancelled_at is not None:
            return "cancelled"
        if self.start_timeout_s is not None and self.queue_s > self.start_timeout_s:
            return "timed_out" if elapsed >= self.start_timeout_s else "queued"
        if elapsed < self.queue_s:
            return "queued"
        if self.never_finish or elapsed < self.queue_s + self.run_s:
            return "running"
        return "done"

    def progress(self, now: float | None = None) -> float:
        """Fraction of the run done."""
        now = time.monotonic() if now is None else now
        if self.run_s <= 0:
            return 1.0
        return max(0.0, min(1.0, (now - self.created - self.queue_s) / self.run_s))
