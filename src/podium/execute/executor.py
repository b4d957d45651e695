"""The executor seam: where an attempt physically runs.

The runner hands an executor a provider and a request and gets back an :class:`AttemptHandle`
once the provider has accepted the attempt (its request id known, so the runner can journal it
before waiting). The handle streams the provider's events, yields the result, and cancels.
:class:`LocalExecutor` waits for remote calls on the runner's event loop and owns the worker pool
that local engines run in; a Ray executor can replace it without the runner noticing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from podium.providers.base import Event, Job, Provider, Request, Result
from podium.providers.local.workers import WorkerPool
from podium.settings import Settings

_DONE = object()


class AttemptHandle(Protocol):
    """One attempt in flight."""

    job: Job

    def events(self) -> AsyncIterator[Event]:
        """The provider's events (progress, partial outputs) until the attempt ends."""
        ...

    async def result(self) -> Result:
        """Wait for the outputs (raises the provider's failure class)."""
        ...

    async def cancel(self) -> None:
        """Stop the attempt (a remote cancel call for remote providers); best effort."""
        ...


class Executor(Protocol):
    """Runs attempts somewhere: this process, a worker pool, a cluster."""

    async def submit(
        self,
        provider: Provider,
        request: Request,
        *,
        resume: tuple[str, Mapping[str, Any]] | None = None,
    ) -> AttemptHandle:
        """Start (or, with ``resume=(request_id, state)``, re-attach to) an attempt.

        Returns once the provider has accepted it.
        """
        ...

    async def shutdown(self) -> None:
        """Stop everything this executor started."""
        ...


class LocalHandle:
    """An attempt waited for on this event loop.

    The provider's ``wait`` runs inside whoever awaits :meth:`result`, not in a task of its
    own: the attempt resumes the moment the provider returns, with no hop through the loop's
    queue at either end (a chain of steps pays those hops once per step). Asking for
    :meth:`events` before :meth:`result` starts it in a task instead, so the events can be read
    first.

    Args:
        provider: the provider running it.
    """

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.job: Job = Job(request=None)  # type: ignore[arg-type]  # set by submit
        self._queue: asyncio.Queue[object] | None = None
        self._task: asyncio.Task[Result] | None = None
        self._waited = False  # the provider's wait has begun (inline or in the task)
        self._ended = False

    def report(self, event: Event) -> None:
        """The reporter handed to the provider: events go to the stream if anyone listens."""
        if self._queue is not None:
            self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[Event]:
        """The provider's events until the attempt ends."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            if self._ended:
                return
        if not self._waited:  # nobody waits yet: run the wait in a task, read its events
            self._waited = True
            self._task = asyncio.ensure_future(self._wait())
        while True:
            item = await self._queue.get()
            if item is _DONE:
                return
            assert isinstance(item, Event)
            yield item

    def start(self, job: Job) -> None:
        """Hold ``job``: its wait begins with :meth:`result` (or :meth:`events`)."""
        self.job = job

    async def _wait(self) -> Result:
        try:
            return await self.provider.wait(self.job, self.report)
        finally:
            self._ended = True
            if self._queue is not None:
                self._queue.put_nowait(_DONE)

    async def result(self) -> Result:
        """Wait for the outputs: in place, or on the task :meth:`events` started.

        Cancelling the awaiting attempt stops the wait either way; :meth:`cancel` then tells a
        remote provider.
        """
        if self._task is not None:
            return await self._task
        if self._waited:
            raise RuntimeError("the attempt's result is already being awaited")
        self._waited = True
        return await self._wait()

    async def cancel(self) -> None:
        """Stop the waiting task (if any), then tell a remote provider to stop the job."""
        self._waited = True  # a wait not begun never begins
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.provider.remote and self.job.request_id:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.provider.cancel(self.job), timeout=10)


class LocalExecutor:
    """Runs attempts in this process: remote calls as tasks, local engines in a worker pool.

    Args:
        settings: ``workers`` sizes the pool.
        pool: an existing pool to use instead of creating one.
    """

    def __init__(self, settings: Settings, pool: WorkerPool | None = None) -> None:
        self.pool = pool or WorkerPool(settings.workers)

    def provider_kwargs(self) -> dict[str, dict[str, Any]]:
        """``ProviderRegistry(extra_kwargs=...)`` that hands the pool to the local provider."""
        return {"local": {"pool": self.pool}}

    async def submit(
        self,
        provider: Provider,
        request: Request,
        *,
        resume: tuple[str, Mapping[str, Any]] | None = None,
    ) -> LocalHandle:
        """Submit (or resume) and return once the provider has accepted the attempt."""
        handle = LocalHandle(provider)
        if resume is not None:
            job = await provider.resume(request, resume[0], resume[1])
        else:
            job = await provider.submit(request, handle.report)
        handle.start(job)
        return handle

    async def shutdown(self) -> None:
        """Stop the worker pool."""
        await asyncio.to_thread(self.pool.shutdown)
