"""The fake provider's clock: waits at least as asked, wakes many waiters in deadline order,
and can be cancelled."""

from __future__ import annotations

import asyncio
import time

import pytest

from podium.testing import clock


async def test_sleep_waits_at_least_as_long_as_asked() -> None:
    start = time.monotonic()
    await clock.sleep(0.02)
    assert time.monotonic() - start >= 0.02


async def test_waiters_wake_in_deadline_order() -> None:
    woke: list[float] = []

    async def nap(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(seconds)

    await asyncio.gather(*(nap(s) for s in (0.03, 0.01, 0.02, 0.005)))
    assert woke == [0.005, 0.01, 0.02, 0.03]


async def test_a_cancelled_sleep_stops_and_others_still_wake() -> None:
    long = asyncio.create_task(clock.sleep(30))
    await asyncio.sleep(0)
    long.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long
    await asyncio.wait_for(clock.sleep(0.01), timeout=5)
