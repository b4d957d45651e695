"""Waiting like a reply does: the fake provider's latency, kept to the tenth of a millisecond.

A real provider's answer arrives on a socket, and the event loop wakes the moment it is
readable. ``asyncio.sleep`` instead waits on the loop's timer, which the selector rounds up to
the next whole millisecond — up to a millisecond late on every call, which a 7-step chain of
fake calls adds up and no real provider would. :func:`sleep` hands the deadline to one sleeper
thread that wakes the waiting loop through its self-pipe, as a socket would.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time

Waiter = tuple[float, int, asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class _Sleeper:
    """One daemon thread waking futures at their deadlines."""

    def __init__(self) -> None:
        self._heap: list[Waiter] = []
        self._order = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(
        self, deadline: float, loop: asyncio.AbstractEventLoop, fut: asyncio.Future[None]
    ) -> None:
        with self._cv:
            heapq.heappush(self._heap, (deadline, next(self._order), loop, fut))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fake-clock", daemon=True)
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                deadline, _, loop, fut = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._cv.wait(left)
                    continue
                heapq.heappop(self._heap)
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_wake, fut)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():  # not cancelled meanwhile
        fut.set_result(None)


_SLEEPER = _Sleeper()


async def sleep(seconds: float) -> None:
    """Wait ``seconds`` (cancellable), woken on time rather than at the next millisecond."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    _SLEEPER.add(time.monotonic() + seconds, loop, fut)
    await fut
