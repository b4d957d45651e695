"""``podium cancel RUN``: stop a run gracefully; it stays resumable.

The run is marked ``cancelling``; the process running it notices within half a second, cancels
its attempts (remote cancel calls included) and marks it ``cancelled``. When no process is
running it (it crashed), this command cancels the remote jobs left in flight itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace

import typer

from podium.cli._store import unknown_run
from podium.cli.app import app, err_console
from podium.cli.models import cli_catalog
from podium.errors import PodiumError
from podium.providers.base import Job, Request
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings, load_settings
from podium.spec.vocabulary import Task
from podium.store.open import Store, open_store

DONE = ("succeeded", "failed", "cancelled")
OPEN = ("submitted", "running")


async def cancel_orphans(settings: Settings, store: Store, run_id: str) -> int:
    """Cancel the remote jobs a dead process left in flight; return how many."""
    catalog = cli_catalog(settings)
    registry = ProviderRegistry(settings)
    count = 0
    try:
        for a in store.journal.attempts(run_id):
            if a.status not in OPEN:
                continue
            if a.request_id and a.model.split("@")[0] in catalog:
                card = catalog.get(a.model)
                provider = registry.for_card(card)
                request = Request(
                    step_id=a.step_key,
                    task=Task(card.tasks[0]),
                    card=card,
                    prompt=None,
                    prompt_text="",
                    inputs={},
                    params={},
                    seed=None,
                    outputs=(),
                    work_dir=settings.home / "work",
                    idempotency_key=a.idempotency_key,
                )
                with contextlib.suppress(PodiumError, NotImplementedError):
                    await provider.cancel(Job(request, a.request_id, dict(a.state)))
                count += 1
            store.journal.put_attempt(
                replace(
                    a,
                    status="cancelled",
                    finished_at=time.time(),
                    error_code="cancelled",
                    error="cancelled by `podium cancel`",
                )
            )
    finally:
        await registry.aclose()
    return count


@app.command("cancel")
def cancel_cmd(
    run_id: str = typer.Argument(..., help="The run (a unique prefix is enough)."),
    wait_s: float = typer.Option(5.0, "--wait", help="Seconds to wait for the run to stop."),
) -> None:
    """Cancel a run gracefully (remote jobs are cancelled); `podium resume` continues it."""
    settings = load_settings()
    store = open_store(settings)
    try:
        try:
            run = store.journal.get_run(run_id)
        except KeyError as exc:
            raise unknown_run(run_id, exc) from None
        if run.status in DONE:
            err_console.print(f"run {run.run_id} already {run.status}", markup=False)
            return
        store.journal.update_run(run.run_id, status="cancelling")
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if store.journal.get_run(run.run_id).status != "cancelling":
                err_console.print(
                    f"run {run.run_id} cancelled; `podium resume {run.run_id}` continues it",
                    markup=False,
                )
                return
            time.sleep(0.1)
        # nobody is running it: cancel what it left in flight ourselves
        n = asyncio.run(cancel_orphans(settings, store, run.run_id))
        store.journal.update_run(run.run_id, status="cancelled")
        err_console.print(
            f"run {run.run_id} cancelled ({n} remote job(s) cancelled); "
            f"`podium resume {run.run_id}` continues it",
            markup=False,
        )
    finally:
        store.close()
