"""The runner: schedules a plan's steps on one event loop as their dependencies finish.

Every step starts the moment the steps it references are done (not level by level), its units
run concurrently, each along its decision's chain (:mod:`podium.execute.hedge`) with retries,
timeouts, breakers and budget reservations (:mod:`podium.execute.attempt`). Every state change
is journaled first, so ``resume`` continues a run without redoing finished steps or paying twice
for a remote job. Outputs land in the out dir as ``<step>[-<i>].<ext>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import math
import os
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from podium.catalog.catalog import Catalog
from podium.errors import BudgetExceeded, PodiumError
from podium.execute.attempt import Services
from podium.execute.breaker import Breakers
from podium.execute.budget import BudgetAccountant, Limit
from podium.execute.commit import make_out_dir, out_dir_error
from podium.execute.events import Listener, RunEvent, no_listener
from podium.execute.executor import Executor, LocalExecutor
from podium.execute.job import Loaded, RunJob, RunOutput
from podium.execute.scratch import ScratchDirs
from podium.execute.summary import write_minimal_summary
from podium.plan.decision import Plan
from podium.plan.router import Router
from podium.providers.base import Provider
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec.models import Weights
from podium.store.base import ArtifactStore, CacheIndex, Journal, StateStore
from podium.store.open import Store
from podium.store.records import AttemptRecord, RunRecord, StepRecord

Summarize = Callable[[str, Path, Mapping[str, Any]], Path | tuple[Path, ...]]


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: DESIGN's ``podium run --json`` document, via :meth:`to_json`."""

    run_id: str
    status: str
    out_dir: Path
    outputs: list[RunOutput]
    cost_usd: float
    wall_s: float
    summary: Path | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{run_id, status, out_dir, summary, outputs, cost_usd, wall_s}``."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "out_dir": str(self.out_dir),
            "summary": str(self.summary) if self.summary else None,
            "outputs": [
                {"step": o.step, "path": str(o.path), "type": o.type, "sha256": o.sha256}
                for o in self.outputs
            ],
            "cost_usd": round(self.cost_usd, 6),
            "wall_s": round(self.wall_s, 3),
        }


def new_run_id() -> str:
    """A sortable, unique run id: ``20260124-061203-ab12cd``."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


def day_start() -> float:
    """Unix time of today's midnight (UTC), the start of the daily budget windows."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class Runner:
    """Runs pipelines. One instance per process; ``run`` may be called many times.

    Args:
        settings: the process's settings.
        catalog: the model cards.
        registry: provider instances.
        router: chooses models (a :class:`~podium.plan.router.Router`).
        journal: runs, steps and attempts.
        artifacts: the content-addressed store.
        cache: cache key -> outputs.
        state: circuit breakers.
        executor: where attempts run (default: a :class:`LocalExecutor`).
        summarize: writes the run summary (``podium.report.summary``); the runner writes a
            minimal ``summary.json`` itself when none is given.
    """

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        registry: ProviderRegistry,
        router: Router,
        *,
        journal: Journal,
        artifacts: ArtifactStore,
        cache: CacheIndex,
        state: StateStore,
        executor: Executor | None = None,
        summarize: Summarize | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.registry = registry
        self.router = router
        self.journal = journal
        self.artifacts = artifacts
        self.cache = cache
        self.state = state
        self.executor: Executor = executor or LocalExecutor(settings)
        self.summarize = summarize
        self.breakers = Breakers(state, settings)
        # attempts' scratch directories, reused across runs (see podium.execute.scratch)
        self.scratch = ScratchDirs(settings.home)
        # housekeeping threads (out-dir links, scratch clean-up), kept across runs: a pool made
        # per run started its first thread just as the first steps were about to start
        self.background = ThreadPoolExecutor(2, thread_name_prefix="podium-bg")

    def budget_limits(
        self, pipeline: str, budget_usd: float | None, run_id: str | None
    ) -> list[Limit]:
        """The budgets in force, each with what was already spent in its window."""
        limits = []
        if budget_usd is not None:
            spent = 0.0
            if run_id is not None:  # a resumed run keeps what it already spent
                spent = sum(a.cost_usd for a in self.journal.attempts(run_id))
            limits.append(Limit("--budget", budget_usd, spent))
        since = day_start()
        if self.settings.budget_pipeline_daily_usd is not None:
            limits.append(
                Limit(
                    f"daily budget of pipeline {pipeline} (budget_pipeline_daily_usd)",
                    self.settings.budget_pipeline_daily_usd,
                    self.journal.spent(since, pipeline),
                    since=since,
                    pipeline=pipeline,
                )
            )
        if self.settings.budget_daily_usd is not None:
            daily = self.settings.budget_daily_usd
            name = "global daily (budget_daily_usd)"
            limits.append(Limit(name, daily, self.journal.spent(since), since=since))
        return limits

    async def run(
        self,
        loaded: Loaded,
        *,
        policy: str | Weights | None = None,
        budget_usd: float | None = None,
        out_dir: Path | None = None,
        force: bool = False,
        resume_run_id: str | None = None,
        lock: Mapping[str, str] | None = None,
        on_event: Listener | None = None,
        seed: int | None = None,
    ) -> RunOutcome:
        """Run (or resume) a pipeline.

        Args:
            loaded: the loaded spec.
            policy: overrides the pipeline's policy.
            budget_usd: the run's budget.
            out_dir: where outputs go (default ``./podium-out/<pipeline>/<run-id>/``).
            force: run even when the plan's estimate exceeds a budget.
            resume_run_id: continue this run instead of starting a new one.
            lock: step id -> ``provider/model@version`` from the lock file.
            on_event: receives :class:`RunEvent` as the run goes.
            seed: overrides the pipeline's ``consistency.seed``.

        Raises:
            BudgetExceeded: the estimate exceeds a budget (and not ``force``).
            NoModel: a step has no eligible model.
        """
        started = time.monotonic()
        check_budget(budget_usd)
        pipeline = loaded.pipeline
        listener = on_event or no_listener
        plan = self.router.plan(loaded, policy=policy, lock=lock)
        accountant = BudgetAccountant(self.budget_limits(pipeline.name, budget_usd, resume_run_id))
        if not force:
            preflight(plan, accountant)
        run_id = (
            new_run_id()
            if resume_run_id is None
            else self.journal.get_run(resume_run_id, plan=False).run_id
        )
        out = (Path(out_dir) if out_dir else Path("podium-out") / pipeline.name / run_id).resolve()
        writable(out)  # made by the first chore below, off the loop; refused here if it cannot be
        brief = {"spec_text_sha256": text_sha(loaded), "seed": seed}
        run_id, prior_steps, prior_attempts = self._open_run(
            loaded, plan.policy, brief, run_id, resume_run_id is not None, budget_usd, out
        )
        if resume_run_id is not None and seed is None:
            seed = self.journal.get_run(run_id).plan.get("seed")
        listener(RunEvent("run", run_id, "running", data={"steps": len(pipeline.steps)}))
        self.breakers.refresh()  # what other processes' runs did to the breakers since
        services = Services(
            settings=self.settings,
            catalog=self.catalog,
            registry=self.registry,
            executor=self.executor,
            journal=self.journal,
            artifacts=self.artifacts,
            cache=self.cache,
            breakers=self.breakers,
            budget=accountant,
            run_id=run_id,
            scratch=self.scratch,
            listener=listener,
            prior=prior_attempts,
            background=self.background,
        )
        services.chores.do(partial(make_out_dir, out))
        job = RunJob(loaded, plan, services, prior_steps, out, seed)
        # the plan's whole document (the run's record and summary carry it) is built and
        # written once the first steps are under way, while they wait on their providers: it
        # is acted on by nothing, and what a resume needs (brief) is in the run's first write.
        # Held for the first step to finish instead, its 50 kB would delay that step's heirs
        plan_doc: dict[str, Any] = {}

        def note_plan() -> None:
            plan_doc.update(plan.to_dict())
            if resume_run_id is None:
                self.journal.note_plan(run_id, {**plan_doc, **brief})
                # a failed write keeps it held: the next commit writes it or reports why
                with contextlib.suppress(Exception):
                    self.journal.flush()

        loop = asyncio.get_running_loop()
        loop.call_soon(loop.call_soon, note_plan)  # after the steps' first moves
        try:
            status, errors = await job.execute()
        except Exception as exc:
            self.journal.update_run(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        wall = time.monotonic() - started
        return self._close_run(run_id, status, errors, wall, job, plan_doc or plan.to_dict())

    def _close_run(
        self,
        run_id: str,
        status: str,
        errors: dict[str, str],
        wall: float,
        job: RunJob,
        plan_doc: dict[str, Any],
    ) -> RunOutcome:
        attempts = self.journal.attempts(run_id)
        cost = round(sum(a.cost_usd for a in attempts), 9)
        self.journal.update_run(
            run_id,
            status=status,
            cost_usd=cost,
            wall_s=wall,
            error="; ".join(f"{k}: {v}" for k, v in errors.items()) or None,
        )
        summary = self._summary(run_id, job.out, plan_doc, attempts)
        job.s.listener(RunEvent("run", run_id, status, cost_usd=cost))
        return RunOutcome(run_id, status, job.out, job.outputs, cost, wall, summary, errors)

    def _open_run(
        self,
        loaded: Loaded,
        policy: str,
        brief: dict[str, Any],
        run_id: str,
        resume: bool,
        budget_usd: float | None,
        out: Path,
    ) -> tuple[str, dict[str, StepRecord], dict[str, list[AttemptRecord]]]:
        """Create the run's record, or reopen it with what it did so far (a resume)."""
        if resume:
            self.journal.update_run(run_id, status="running", error=None, out_dir=str(out))
            steps = {s.key: s for s in self.journal.steps(run_id)}
            attempts: dict[str, list[AttemptRecord]] = {}
            for a in self.journal.attempts(run_id):
                attempts.setdefault(a.step_key, []).append(a)
            return run_id, steps, attempts
        now = time.time()
        self.journal.create_run(
            RunRecord(
                run_id=run_id,
                pipeline=loaded.pipeline.name,
                spec_path=str(loaded.path.resolve()) if loaded.path else None,
                spec_hash=loaded.spec_hash,
                status="running",
                created_at=now,
                updated_at=now,
                out_dir=str(out),
                policy=policy,
                budget_usd=budget_usd,
                inputs=_jsonable(loaded.inputs),
                plan=dict(brief),
            )
        )
        return run_id, {}, {}

    def _summary(
        self, run_id: str, out: Path, doc: dict[str, Any], attempts: list[AttemptRecord]
    ) -> Path | None:
        """Write the run's summary; a failing report must not undo a finished run."""
        if self.summarize is not None:
            try:
                written = self.summarize(run_id, out, doc)
                return written[0] if isinstance(written, tuple) else written
            except Exception as exc:
                warnings.warn(f"run summary failed ({exc}); wrote a minimal one", stacklevel=2)
        try:
            return write_minimal_summary(run_id, self.journal, out, doc, attempts)
        except OSError:
            return None


def preflight(plan: Plan, accountant: BudgetAccountant) -> None:
    """Refuse a run whose estimate does not fit what is left of its budgets.

    Raises:
        BudgetExceeded: naming the estimate, what is left and the tightest budget.
    """
    left = accountant.left_usd()
    if left is None or plan.total_cost_usd <= left + 1e-9:
        return
    tight = min(accountant.limits, key=lambda lim: lim.left_usd())
    raise BudgetExceeded(
        f"the plan is estimated at ${plan.total_cost_usd:.4f} but only ${left:.4f} is "
        f"left of the {tight.name} budget of ${tight.limit_usd:.2f}",
        where=f"pipeline {plan.pipeline}",
        hint="raise the budget, choose --policy cheapest, or pass --force to run anyway",
    )


def check_budget(budget_usd: float | None) -> None:
    """Refuse a run budget that is not a finite amount of 0 dollars or more.

    Raises:
        PodiumError: naming the value.
    """
    if budget_usd is None or (math.isfinite(budget_usd) and budget_usd >= 0):
        return
    raise PodiumError(
        f"the budget must be an amount of 0 dollars or more, not {budget_usd}",
        where="--budget",
        hint="pass the most the run may spend in USD, e.g. --budget 2.50",
    )


def writable(out: Path) -> None:
    """Refuse an out dir that cannot be made or written, before anything runs.

    Raises:
        PodiumError: the nearest existing folder is a file or not writable.
    """
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        what = "a file" if not existing.is_dir() else "not writable"
        raise out_dir_error(out, f"{existing} is {what}")


def text_sha(loaded: Loaded) -> str:
    """sha256 of the spec's text (a resume checks the spec did not change under the run)."""
    text = getattr(loaded, "text", "")
    return hashlib.sha256(str(text).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def local_runner(
    settings: Settings,
    catalog: Catalog,
    store: Store,
    *,
    classes: Mapping[str, type[Provider]] | None = None,
    client_factory: Callable[[str], httpx.AsyncClient] | None = None,
    summarize: Summarize | None = None,
) -> tuple[Runner, ProviderRegistry, LocalExecutor]:
    """A :class:`Runner` over ``store`` on the local executor, with its providers and router.

    The executor's worker pool is handed to the ``local`` provider, and the router reads the
    store's ledger (observed stats) and breakers. The caller closes the registry
    (``aclose``), the executor (``shutdown``) and the store.

    Args:
        settings: the process's settings.
        catalog: the model cards to route over.
        store: journal, artifacts, cache and breaker state.
        classes: provider classes by name (default: every installed plug-in).
        client_factory: builds each remote provider's HTTP client.
        summarize: writes a finished run's report.
    """
    executor = LocalExecutor(settings)
    registry = ProviderRegistry(
        settings,
        classes=classes,
        client_factory=client_factory,
        extra_kwargs=executor.provider_kwargs(),
    )
    router = Router(catalog, registry.check, settings, journal=store.journal, state=store.state)
    runner = Runner(
        settings,
        catalog,
        registry,
        router,
        journal=store.journal,
        artifacts=store.artifacts,
        cache=store.cache,
        state=store.state,
        executor=executor,
        summarize=summarize,
    )
    return runner, registry, executor
