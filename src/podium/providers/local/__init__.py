"""The ``local`` provider: offline engines run on this machine.

Each model ``local/NAME`` is served by an :class:`~podium.providers.local.engine.Engine`. Engine
calls run in a :class:`~podium.providers.local.workers.WorkerPool` when one is injected (the local
executor owns it), else in a thread. Local engines are never resumed: the runner re-runs them.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import httpx

from podium.catalog.card import ModelCard
from podium.providers.base import Job, Provider, Reporter, Request, Result
from podium.providers.local.engine import load_engine
from podium.providers.local.workers import WorkerPool, run_engine
from podium.settings import Settings


class LocalProvider(Provider):
    """Runs local engines, in a worker pool when one is given."""

    name: ClassVar[str] = "local"
    remote: ClassVar[bool] = False

    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        super().__init__(settings, client)
        self.pool = pool

    def check(self, card: ModelCard) -> str | None:
        engine = load_engine(card.model)
        if engine is None:
            return f"no local engine named {card.model!r}"
        return engine.check(card)

    async def submit(self, request: Request, report: Reporter) -> Job:
        return Job(request=request)

    async def wait(self, job: Job, report: Reporter) -> Result:
        request = job.request
        if self.pool is not None:
            return await self.pool.run(request, report)
        return await asyncio.to_thread(run_engine, request, report)
