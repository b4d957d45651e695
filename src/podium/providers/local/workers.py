"""A pool of worker processes for CPU-bound local engines.

Each worker keeps the engines (and the models they loaded) warm in its own memory. Events an
engine reports in a worker (progress, partial outputs such as voice chunks) travel back over a
queue and reach the attempt's reporter on the runner's event loop as they happen.

When every worker is busy, waiting requests start by their ``priority`` (highest first, then
first come), not in the order they arrived: the runner ranks each by the work still ahead of
its step, so the hero stills a promo's shots wait on go before a voice nothing waits on yet.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import multiprocessing
import multiprocessing.connection
import os
import queue
import threading
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from podium.errors import PodiumError, Unavailable
from podium.providers.base import Event, Reporter, Request, Result
from podium.providers.local.engine import load_engine

_EVENTS: Any = None  # the worker's end of the event queue, set by _init_worker


def _init_worker(events: Any) -> None:
    global _EVENTS
    _EVENTS = events
    threading.Thread(target=_exit_with_parent, daemon=True).start()


def _exit_with_parent() -> None:
    # a SIGKILLed runner cannot shut its pool down; its workers would wait forever otherwise
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def run_engine(request: Request, report: Reporter) -> Result:
    """Run ``request`` on its local engine in this process."""
    engine = load_engine(request.card.model)
    if engine is None:
        raise Unavailable(
            f"no local engine named {request.card.model!r}",
            where=f"step {request.step_id}",
            hint="check the model card's id",
        )
    return engine.run(request, report)


def _worker_run(job_id: str, request: Request) -> Result:
    def report(event: Event) -> None:
        if _EVENTS is not None:
            _EVENTS.put((job_id, event))

    return run_engine(request, report)


def _warm(models: tuple[str, ...]) -> int:
    for model in models:
        load_engine(model)
    return len(models)


class _Slots:
    """``n`` worker slots, handed to waiters highest priority first, then first come.

    A waiter may belong to any event loop; the hand-over goes through that loop.
    """

    def __init__(self, n: int) -> None:
        self.free = n
        self._waiting: list[tuple[float, int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    async def acquire(self, priority: float) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.free > 0 and not self._waiting:
                self.free -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            heapq.heappush(self._waiting, (-priority, next(self._order), loop, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            # cancelled while queued: _give finds the waiter done and passes the slot on; but
            # if the slot had already been handed over, it is this caller's to give back
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            if not self._waiting:
                self.free += 1
                return
            _, _, loop, waiter = heapq.heappop(self._waiting)
        try:
            loop.call_soon_threadsafe(self._give, waiter)
        except RuntimeError:  # that loop is closed: nobody waits there any more
            self.release()

    def _give(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done():  # given up while queued
            self.release()
        else:
            waiter.set_result(None)


class WorkerPool:
    """Worker processes running local engines.

    Args:
        workers: number of processes.
    """

    def __init__(self, workers: int = 2) -> None:
        self.workers = max(1, workers)
        self._ctx = multiprocessing.get_context("spawn")
        self._events: Any = self._ctx.Queue()
        self._executor: ProcessPoolExecutor | None = None
        self._reporters: dict[str, tuple[asyncio.AbstractEventLoop, Reporter]] = {}
        self._drainer: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._slots = _Slots(self.workers)

    def _ensure(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=self._ctx,
                    initializer=_init_worker,
                    initargs=(self._events,),
                )
                self._drainer = threading.Thread(
                    target=self._drain, name="podium-events", daemon=True
                )
                self._drainer.start()
            return self._executor

    def _drain(self) -> None:
        while not self._closed:
            try:
                job_id, event = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            target = self._reporters.get(job_id)
            if target is not None:
                loop, report = target
                loop.call_soon_threadsafe(report, event)

    async def warm(self, models: tuple[str, ...]) -> None:
        """Load these engines in every worker ahead of use."""
        executor = self._ensure()
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(executor, _warm, models) for _ in range(self.workers))
        )

    async def run(self, request: Request, report: Reporter) -> Result:
        """Run ``request`` in a worker when one is free (waiting requests by ``priority``);
        ``report`` receives its events on this loop."""
        executor = self._ensure()
        await self._slots.acquire(request.priority)
        try:
            return await self._run(executor, request, report)
        finally:
            self._slots.release()

    async def _run(
        self, executor: ProcessPoolExecutor, request: Request, report: Reporter
    ) -> Result:
        job_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        self._reporters[job_id] = (loop, report)
        try:
            future = executor.submit(_worker_run, job_id, request)
            try:
                return await asyncio.wrap_future(future)
            except PodiumError:
                raise
            except Exception as exc:  # an engine crash becomes a clear, classified error
                raise PodiumError(
                    f"local engine {request.card.id} crashed: {type(exc).__name__}: {exc}",
                    where=f"step {request.step_id}",
                ) from exc
        finally:
            # let queued events reach the reporter before forgetting it
            await asyncio.sleep(0)
            self._reporters.pop(job_id, None)

    def shutdown(self) -> None:
        """Stop the workers."""
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
