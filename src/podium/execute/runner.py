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
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from podium.catalog.catalog import Catalog
from podium.errors import BudgetExceeded, PodiumError
from podium.execute.attempt import AttemptRunner, Produced, Services, Unit
from podium.execute.breaker import Breakers
from podium.execute.budget import BudgetAccountant, Limit
from podium.execute.events import Listener, RunEvent, no_listener
from podium.execute.executor import Executor, LocalExecutor
from podium.execute.hedge import run_chain
from podium.execute.select import best, read_scores
from podium.execute.summary import write_minimal_summary
from podium.execute.units import Artifact, Resolver, StepOutputs, as_input, build_units
from podium.plan.decision import Decision, Plan
from podium.plan.router import Router
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec.fanout import fans_out
from podium.spec.models import Pipeline, Step, Weights
from podium.spec.references import step_deps
from podium.spec.vocabulary import Task
from podium.store.base import ArtifactStore, CacheIndex, Journal, StateStore
from podium.store.records import AttemptRecord, RunRecord, StepRecord

Summarize = Callable[[str, Path, Mapping[str, Any]], Path | tuple[Path, ...]]


class Loaded(Protocol):
    """What the runner needs of a loaded spec (``podium.spec.loader.LoadedSpec``)."""

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline."""

    @property
    def inputs(self) -> dict[str, Any]:
        """Resolved input values."""

    @property
    def path(self) -> Path | None:
        """The spec file."""

    @property
    def spec_hash(self) -> str:
        """sha256 of the spec text and ``--set`` values."""


@dataclass(frozen=True)
class RunOutput:
    """One file in the out dir."""

    step: str
    path: Path
    type: str
    sha256: str


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


class StepFailed(Exception):
    """A step did not produce its outputs (its dependents are skipped)."""

    def __init__(self, step_id: str, code: str, message: str) -> None:
        super().__init__(message)
        self.step_id = step_id
        self.code = code
        self.message = message


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
                )
            )
        if self.settings.budget_daily_usd is not None:
            daily = self.settings.budget_daily_usd
            limits.append(Limit("global daily", daily, self.journal.spent(since)))
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
        pipeline = loaded.pipeline
        listener = on_event or no_listener
        plan = self.router.plan(loaded, policy=policy, lock=lock)
        limits = self.budget_limits(pipeline.name, budget_usd, resume_run_id)
        accountant = BudgetAccountant(limits)
        left = accountant.left_usd()
        if left is not None and plan.total_cost_usd > left + 1e-9 and not force:
            tight = min(limits, key=lambda lim: lim.left_usd())
            raise BudgetExceeded(
                f"the plan is estimated at ${plan.total_cost_usd:.4f} but only ${left:.4f} is "
                f"left of the {tight.name} budget of ${tight.limit_usd:.2f}",
                where=f"pipeline {pipeline.name}",
                hint="raise the budget, choose --policy cheapest, or pass --force to run anyway",
            )
        run_id, prior_steps, prior_attempts = self._open_run(
            loaded, plan, resume_run_id, policy, budget_usd, seed
        )
        if resume_run_id is not None and seed is None:
            seed = self.journal.get_run(run_id).plan.get("seed")
        out = (Path(out_dir) if out_dir else Path("podium-out") / pipeline.name / run_id).resolve()
        out.mkdir(parents=True, exist_ok=True)
        self.journal.update_run(run_id, out_dir=str(out.resolve()))
        listener(RunEvent("run", run_id, "running", data={"steps": len(pipeline.steps)}))
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
            work_root=self.settings.home / "work" / run_id,
            listener=listener,
            prior=prior_attempts,
        )
        job = _RunJob(self, loaded, plan, services, prior_steps, out, seed)
        try:
            status, errors = await job.execute()
        except Exception as exc:
            self.journal.update_run(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        wall = time.monotonic() - started
        services.background.shutdown(wait=True)
        shutil.rmtree(services.work_root, ignore_errors=True)
        cost = round(sum(a.cost_usd for a in self.journal.attempts(run_id)), 9)
        self.journal.update_run(
            run_id,
            status=status,
            cost_usd=cost,
            wall_s=wall,
            error="; ".join(f"{k}: {v}" for k, v in errors.items()) or None,
        )
        summary = self._summary(run_id, out, plan)
        listener(RunEvent("run", run_id, status, cost_usd=cost))
        return RunOutcome(run_id, status, out, job.outputs, cost, wall, summary, errors)

    def _open_run(
        self,
        loaded: Loaded,
        plan: Plan,
        resume_run_id: str | None,
        policy: str | Weights | None,
        budget_usd: float | None,
        seed: int | None,
    ) -> tuple[str, dict[str, StepRecord], dict[str, list[AttemptRecord]]]:
        if resume_run_id is not None:
            run = self.journal.get_run(resume_run_id)
            self.journal.update_run(run.run_id, status="running", error=None)
            steps = {s.key: s for s in self.journal.steps(run.run_id)}
            attempts: dict[str, list[AttemptRecord]] = {}
            for a in self.journal.attempts(run.run_id):
                attempts.setdefault(a.step_key, []).append(a)
            return run.run_id, steps, attempts
        run_id = new_run_id()
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
                policy=plan.policy if policy is None else str(plan.policy),
                budget_usd=budget_usd,
                inputs=_jsonable(loaded.inputs),
                plan={**plan.to_dict(), "spec_text_sha256": text_sha(loaded), "seed": seed},
            )
        )
        return run_id, {}, {}

    def _summary(self, run_id: str, out: Path, plan: Plan) -> Path | None:
        try:
            if self.summarize is not None:
                written = self.summarize(run_id, out, plan.to_dict())
                return written[0] if isinstance(written, tuple) else written
            return write_minimal_summary(run_id, self.journal, out, plan.to_dict())
        except OSError:
            return None


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


class _RunJob:
    """One execution of a run: the step tasks and their shared state."""

    def __init__(
        self,
        runner: Runner,
        loaded: Loaded,
        plan: Plan,
        services: Services,
        prior_steps: dict[str, StepRecord],
        out: Path,
        seed: int | None,
    ) -> None:
        self.r = runner
        self.loaded = loaded
        self.pipeline = loaded.pipeline
        self.plan = plan
        self.s = services
        self.attempts = AttemptRunner(services)
        self.prior_steps = prior_steps
        self.out = out
        self.base_seed = seed if seed is not None else self.pipeline.consistency.seed
        self.finished: dict[str, StepOutputs] = {}
        self.outputs: list[RunOutput] = []
        self.errors: dict[str, str] = {}
        self._inputs: dict[str, Artifact] = {}
        self._hedge: dict[str, float | None] = {}
        self.copies: list[asyncio.Future[None]] = []

    async def execute(self) -> tuple[str, dict[str, str]]:
        """Run every step; return the run's status and per-step errors."""
        ids = {s.id for s in self.pipeline.steps}
        tasks: dict[str, asyncio.Task[StepOutputs]] = {}
        for step in self.pipeline.steps:
            deps = [d for d in step_deps(step) if d in ids]
            tasks[step.id] = asyncio.ensure_future(self._step(step, deps, tasks))
        watcher = asyncio.ensure_future(self._watch_cancel(tasks))
        try:
            results = await asyncio.gather(*tasks.values(), return_exceptions=True)
        except asyncio.CancelledError:
            for t in tasks.values():
                t.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            self.s.journal.update_run(self.s.run_id, status="interrupted")
            raise
        finally:
            watcher.cancel()
            await asyncio.gather(*self.copies)
        cancelled = any(isinstance(r, asyncio.CancelledError) for r in results)
        if cancelled:
            return "cancelled", self.errors
        return ("succeeded" if not self.errors else "failed"), self.errors

    async def _watch_cancel(self, tasks: Mapping[str, asyncio.Task[StepOutputs]]) -> None:
        # `podium cancel RUN` from another process marks the run; we stop gracefully
        while True:
            await asyncio.sleep(0.5)
            with contextlib.suppress(KeyError):
                if self.s.journal.get_run(self.s.run_id).status == "cancelling":
                    for t in tasks.values():
                        t.cancel()
                    return

    async def _step(
        self, step: Step, deps: list[str], tasks: Mapping[str, asyncio.Task[StepOutputs]]
    ) -> StepOutputs:
        for dep in deps:
            try:
                await asyncio.shield(tasks[dep])
            except (StepFailed, PodiumError, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and not tasks[dep].cancelled():
                    raise
                self._record_step(step.id, "skipped", error=f"needs step {dep}, which failed")
                self.s.listener(RunEvent("step", step.id, "skipped", step.id))
                raise StepFailed(step.id, "skipped", f"needs step {dep}") from None
        done = self.prior_steps.get(step.id)
        if done is not None and done.status == "succeeded" and self._restore(step, done):
            self.s.listener(
                RunEvent(
                    "step",
                    step.id,
                    "succeeded",
                    step.id,
                    done.model,
                    done.cost_usd,
                    data={"restored": True},
                )
            )
            return self.finished[step.id]
        try:
            result = await self._run_step(step)
        except StepFailed as exc:
            self.errors[step.id] = exc.message
            raise
        except PodiumError as exc:
            self.errors[step.id] = exc.one_line()
            self._record_step(step.id, "failed", error=exc.one_line(), code=exc.code)
            self.s.listener(RunEvent("step", step.id, "failed", step.id, message=exc.one_line()))
            raise StepFailed(step.id, exc.code, exc.one_line()) from None
        except asyncio.CancelledError:
            self._record_step(step.id, "cancelled", error="cancelled")
            raise
        except Exception as exc:  # a bug must fail its step, not hang or pass the run
            line = f"step {step.id}: internal error: {type(exc).__name__}: {exc}"
            self.errors[step.id] = line
            self._record_step(step.id, "failed", error=line, code="internal")
            self.s.listener(RunEvent("step", step.id, "failed", step.id, message=line))
            raise StepFailed(step.id, "internal", line) from exc
        self.finished[step.id] = result
        self._copy_out(step, result)
        return result

    def _restore(self, step: Step, rec: StepRecord) -> bool:
        """Rebuild a finished step's outputs from the journal (a resume never redoes it)."""
        units = {
            s.outputs[0]: s.outputs
            for s in self.prior_steps.values()
            if s.step_id == step.id and "[" in s.key and s.status == "succeeded" and s.outputs
        }
        try:
            outputs = [self._artifact(h) for h in rec.outputs]
            if fans_out(step):
                files = [[self._artifact(h) for h in units.get(o, (o,))] for o in rec.outputs]
            else:
                files = [outputs]
        except KeyError:
            return False
        result = StepOutputs(outputs, files)
        self.finished[step.id] = result
        self._copy_out(step, result)
        return True

    def _artifact(self, sha: str) -> Artifact:
        if not self.s.artifacts.exists(sha):
            raise KeyError(sha)
        return as_input(self.s.artifacts.get(sha), self.s.artifacts.path(sha))

    def _input_artifact(self, name: str, value: Any) -> Artifact:
        if name not in self._inputs:
            decl = self.pipeline.inputs[name]
            path = Path(str(value)).expanduser()
            if not path.is_absolute() and self.loaded.path is not None:
                path = self.loaded.path.parent / path
            if not path.exists():
                raise PodiumError(
                    f"input {name}: file {path} does not exist",
                    where=f"inputs.{name}",
                    hint=f"pass an existing file with --set {name}=PATH",
                )
            rec = self.s.artifacts.put(path, decl.type, lineage={"input": name})
            self._inputs[name] = as_input(rec, self.s.artifacts.path(rec.sha256))
        return self._inputs[name]

    async def _run_step(self, step: Step) -> StepOutputs:
        decision = self.plan.decisions[step.id]
        resolver = Resolver(self.pipeline, self.loaded.inputs, self.finished, self._input_artifact)
        units = build_units(step, resolver, base_seed=self.base_seed, retry=self.pipeline.retry)
        now = time.time()
        self._record_step(step.id, "running", started_at=now, model=decision.chosen)
        self.s.listener(
            RunEvent(
                "step", step.id, "running", step.id, decision.chosen, data={"units": len(units)}
            )
        )
        many = fans_out(step)
        results = await asyncio.gather(
            *(self._run_unit(u, decision, many) for u in units), return_exceptions=True
        )
        for r in results:
            if isinstance(r, asyncio.CancelledError):
                raise r
        ok = [r for r in results if isinstance(r, Produced)]
        failures = [r for r in results if isinstance(r, BaseException)]
        keep_going = step.select is not None and len(ok) >= step.select.keep
        if failures and not keep_going:
            first = failures[0]
            if isinstance(first, PodiumError):
                raise first
            raise first
        groups = [[self._as_art(rec) for rec in p.outputs] for p in ok]
        if step.select is not None and decision.scorer is not None and len(groups) > 1:
            order = await self._select(step, decision.scorer, [g[0] for g in groups])
            groups = [groups[i] for i in order]
        if not groups:  # a foreach over an empty list
            outputs: list[Artifact] = []
        else:
            outputs = [g[0] for g in groups] if many else list(groups[0])
        cost = sum(p.cost_usd for p in ok)
        self._record_step(
            step.id,
            "succeeded",
            started_at=now,
            finished_at=time.time(),
            model=ok[0].model if ok else None,
            outputs=tuple(a.sha256 for a in outputs),
            cost=cost,
            cache_key=ok[0].cache_key if len(ok) == 1 else None,
        )
        self.s.listener(
            RunEvent("step", step.id, "succeeded", step.id, ok[0].model if ok else None, cost)
        )
        return StepOutputs(outputs, groups)

    def _as_art(self, rec: Any) -> Artifact:
        return as_input(rec, self.s.artifacts.path(rec.sha256))

    def _hedge_after(self, unit: Unit, decision: Decision) -> float | None:
        if unit.hedge_after_s is not None:
            return unit.hedge_after_s
        model = decision.chosen
        if model not in self._hedge:
            stats = self.s.journal.observed(model)
            ok = stats.samples >= self.s.settings.min_samples and stats.latency_p95_s
            self._hedge[model] = float(stats.latency_p95_s or 0) if ok else None
        return self._hedge[model]

    async def _run_unit(self, unit: Unit, decision: Decision, many: bool) -> Produced:
        if many:
            done = self.prior_steps.get(unit.key)
            if done is not None and done.status == "succeeded":
                try:
                    recs = [self.s.artifacts.get(h) for h in done.outputs]
                    if all(self.s.artifacts.exists(h) for h in done.outputs):
                        return Produced(done.model or "", recs, done.cost_usd, cache_key=None)
                except KeyError:
                    pass
            self._record_step(unit.key, "running", started_at=time.time())
        for model in decision.chain:
            hit = self.attempts.from_cache(unit, model)
            if hit is not None:
                self.s.listener(RunEvent("step", unit.key, "cached", unit.step.id, model))
                if many:
                    self._record_unit(unit, hit)
                return hit
        produced = await run_chain(
            decision.chain,
            lambda model, hedge: self.attempts.on_model(unit, model, hedge=hedge),
            self._hedge_after(unit, decision),
        )
        if many:
            self._record_unit(unit, produced)
        return produced

    def _record_unit(self, unit: Unit, p: Produced) -> None:
        self._record_step(
            unit.key,
            "succeeded",
            finished_at=time.time(),
            model=p.model,
            outputs=tuple(r.sha256 for r in p.outputs),
            cost=p.cost_usd,
            cache_key=p.cache_key,
        )

    async def _select(self, step: Step, scorer: Decision, items: list[Artifact]) -> list[int]:
        assert step.select is not None
        score_step = Step(id=f"{step.id}-select", task=Task.SCORE, retry=step.retry)
        unit = Unit(
            key=f"{step.id}.select",
            step=score_step,
            index=None,
            prompt=None,
            inputs={"items": tuple(items)},
            params={},
            seed=None,
            retry=step.retry or self.pipeline.retry,
            timeout_s=step.timeout_s,
        )
        scores: list[float] = []

        async def score_on(model: str, hedge: bool) -> Produced:
            nonlocal scores
            produced = self.attempts.from_cache(unit, model) or await self.attempts.on_model(
                unit, model, hedge=hedge
            )
            sheet = produced.outputs[0]
            text = self.s.artifacts.path(sheet.sha256).read_text(encoding="utf-8")
            scores = read_scores(sheet, text, len(items), step.select.by if step.select else "")
            return produced

        produced = await run_chain(scorer.chain, score_on)
        self._record_step(
            unit.key,
            "succeeded",
            finished_at=time.time(),
            model=produced.model,
            outputs=tuple(r.sha256 for r in produced.outputs),
            cost=produced.cost_usd,
        )
        return best(scores, step.select.keep)

    def _record_step(
        self,
        key: str,
        status: str,
        *,
        started_at: float | None = None,
        finished_at: float | None = None,
        model: str | None = None,
        outputs: tuple[str, ...] = (),
        cost: float = 0.0,
        error: str | None = None,
        code: str | None = None,
        decision: dict[str, Any] | None = None,
        cache_key: str | None = None,
    ) -> None:
        step_id = key.split("[")[0].split(".")[0]
        self.s.journal.put_step(
            StepRecord(
                run_id=self.s.run_id,
                key=key,
                step_id=step_id,
                status=status,
                model=model,
                cache_key=cache_key,
                outputs=outputs,
                cost_usd=cost,
                started_at=started_at,
                finished_at=finished_at or (time.time() if status != "running" else None),
                error_code=code or (status if status in ("skipped", "cancelled") else None),
                error=error,
                decision=decision or {},
            )
        )

    def _copy_out(self, step: Step, result: StepOutputs) -> None:
        """Copy a step's files into the out dir, off the loop and off the critical path."""
        from podium.execute.units import ordered_files

        pairs = []
        for name, art in ordered_files(step.id, result.files, fans_out(step)):
            target = self.out / name
            pairs.append((art.path, target))
            self.outputs.append(RunOutput(step.id, target, str(art.type), art.sha256))
        loop = asyncio.get_running_loop()
        self.copies.append(loop.run_in_executor(self.s.background, _copy_all, pairs))


def _copy_all(pairs: list[tuple[Path, Path]]) -> None:
    for src, dst in pairs:
        shutil.copyfile(src, dst)
