"""One execution of a run: a task per step, started as the steps it references finish.

A step waits for its own dependencies only (never for a whole level), expands into units,
runs them concurrently along the decision's chain, keeps the best variants when it selects,
journals itself and copies its files into the out dir off the critical path. A resume restores
finished steps from the journal instead of running them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from podium.errors import BadOutput, InvalidInput, PodiumError
from podium.execute.attempt import AttemptRunner, Produced, Services, Unit
from podium.execute.events import RunEvent
from podium.execute.hedge import run_chain
from podium.execute.select import best, read_scores
from podium.execute.units import (
    ARTIFACT_INPUT_TYPES,
    Artifact,
    Resolver,
    StepOutputs,
    as_input,
    build_units,
)
from podium.media.verify import verify_output
from podium.plan.decision import Decision, Plan
from podium.spec.fanout import fans_out
from podium.spec.models import Pipeline, Step
from podium.spec.references import step_deps, step_refs
from podium.spec.vocabulary import Task
from podium.store.records import StepRecord


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


class StepFailed(Exception):
    """A step did not produce its outputs (its dependents are skipped)."""

    def __init__(self, step_id: str, code: str, message: str) -> None:
        super().__init__(message)
        self.step_id = step_id
        self.code = code
        self.message = message


class RunJob:
    """One execution of a run: the step tasks and their shared state.

    Args:
        loaded: the loaded spec.
        plan: the run's plan.
        services: what the attempts share.
        prior_steps: step records of the run so far (a resume), by key.
        out: the out dir.
        seed: the pipeline seed in force (``None``: the spec's).
    """

    def __init__(
        self,
        loaded: Loaded,
        plan: Plan,
        services: Services,
        prior_steps: dict[str, StepRecord],
        out: Path,
        seed: int | None,
    ) -> None:
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
        self._storing: dict[str, asyncio.Future[Artifact]] = {}  # inputs being stored
        # a step's outputs are usable once verified and in place; its records commit in a task
        # of their own, after its parents' (see _make_durable)
        self._deps: dict[str, list[str]] = {}
        self._durable: dict[str, asyncio.Task[None]] = {}
        # results that lost a hedge race by a hair, being ledgered (see _spare)
        self._spares: list[asyncio.Task[None]] = []
        # a finished step's record and units, until _step starts making them durable
        self._settling: dict[str, tuple[StepRecord, list[tuple[Unit, Produced]], bool]] = {}
        # how each ended step ended, and the futures of the dependents still waiting on it
        self._outcome: dict[str, str] = {}
        self._waiting: dict[str, list[tuple[float, int, asyncio.Future[None]]]] = {}
        self._order = itertools.count(0, -1)  # equal ranks: the first to wait goes first
        services.barrier = self._unit_barrier

    async def execute(self) -> tuple[str, dict[str, str]]:
        """Run every step; return the run's status and per-step errors."""
        ids = {s.id for s in self.pipeline.steps}
        tasks: dict[str, asyncio.Task[StepOutputs]] = {}
        # highest rank first: of the steps ready together (at the start, or woken together by
        # the parent they wait on, see _release), the one with the longest chain ahead reaches
        # its provider first
        ranks = self.plan.ranks
        order = sorted(self.pipeline.steps, key=lambda s: -ranks.get(s.id, 0.0))
        for step in order:
            self._deps[step.id] = [d for d in step_deps(step) if d in ids]

        def start(steps: list[Step]) -> None:
            for step in steps:
                tasks[step.id] = task = asyncio.ensure_future(self._step(step, self._deps[step.id]))
                # a task cancelled before it began never reaches its own release
                task.add_done_callback(partial(self._release_late, step.id))

        start([s for s in order if not self._deps[s.id]])
        watcher = asyncio.ensure_future(self._watch_cancel(tasks))
        try:
            # the steps that can start reach their providers before the others are set up
            await asyncio.sleep(0)
            start([s for s in order if self._deps[s.id]])
            results = await asyncio.gather(*tasks.values(), return_exceptions=True)
            durable = await asyncio.gather(*self._durable.values(), return_exceptions=True)
            await asyncio.gather(*self._spares, return_exceptions=True)
        except asyncio.CancelledError:
            every = [*tasks.values(), *self._durable.values(), *self._spares]
            for t in every:
                t.cancel()
            await asyncio.gather(*every, return_exceptions=True)
            self.s.journal.update_run(self.s.run_id, status="interrupted")
            raise
        finally:
            watcher.cancel()
            await self.s.chores.drain()
        for step_id, outcome in zip(self._durable, durable, strict=True):
            if isinstance(outcome, Exception) and step_id not in self.errors:
                self.errors[step_id] = f"step {step_id}: its records were not written: {outcome}"
        cancelled = any(isinstance(r, asyncio.CancelledError) for r in [*results, *durable])
        if cancelled:
            return "cancelled", self.errors
        return ("succeeded" if not self.errors else "failed"), self.errors

    async def _watch_cancel(self, tasks: Mapping[str, asyncio.Task[StepOutputs]]) -> None:
        # `podium cancel RUN` from another process marks the run; we stop gracefully
        while True:
            await asyncio.sleep(0.5)
            with contextlib.suppress(KeyError):
                if self.s.journal.run_status(self.s.run_id) == "cancelling":
                    for t in tasks.values():
                        t.cancel()
                    return

    async def _step(self, step: Step, deps: list[str]) -> StepOutputs:
        """Run a step once its dependencies end; then wake the steps waiting on it."""
        outcome = "failed"
        try:
            result = await self._step_body(step, deps)
            outcome = "succeeded"
            return result
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self._release(step.id, outcome)
            # what is not on the critical path queues behind the dependents just woken: the
            # step's records (durable after its parents', see _make_durable), its out-dir links
            settling = self._settling.pop(step.id, None)
            if settling is not None:
                self._durable[step.id] = asyncio.ensure_future(self._make_durable(*settling))
                self._place_out(step, self.finished[step.id])

    def _release(self, step_id: str, outcome: str) -> None:
        # from inside the step's own coroutine: each waiting dependent resumes in the loop's
        # next turn (awaiting the step's task would cost two more turns: its done callbacks,
        # then a shield's)
        self._outcome[step_id] = outcome
        # highest rank first: they resume in this order, each up to its provider call
        for _, _, waiter in sorted(self._waiting.pop(step_id, ()), reverse=True):
            if not waiter.done():  # not cancelled with its dependent
                waiter.set_result(None)

    def _release_late(self, step_id: str, _task: asyncio.Task[StepOutputs]) -> None:
        if step_id not in self._outcome:
            self._release(step_id, "cancelled")

    async def _ended(self, dep: str, step_id: str) -> str:
        """How ``dep``, which ``step_id`` waits for, ended, once it has: ``succeeded``,
        ``failed`` or ``cancelled``.

        Each dependent waits on a future of its own: cancelling one never touches the step it
        waits for, nor its other dependents.
        """
        if dep not in self._outcome:
            waiter = asyncio.get_running_loop().create_future()
            rank = self.plan.ranks.get(step_id, 0.0)
            self._waiting.setdefault(dep, []).append((rank, next(self._order), waiter))
            await waiter
        return self._outcome[dep]

    async def _step_body(self, step: Step, deps: list[str]) -> StepOutputs:
        for dep in deps:
            if await self._ended(dep, step.id) != "succeeded":
                self._record_step(step.id, "skipped", error=f"needs step {dep}, which failed")
                self.s.listener(RunEvent("step", step.id, "skipped", step.id))
                raise StepFailed(step.id, "skipped", f"needs step {dep}")
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
            await self._parents_durable(step.id, quiet=True)  # its outcome after theirs
            self._record_step(step.id, "failed", error=exc.one_line(), code=exc.code)
            self.s.listener(RunEvent("step", step.id, "failed", step.id, message=exc.one_line()))
            raise StepFailed(step.id, exc.code, exc.one_line()) from None
        except asyncio.CancelledError:
            self._record_step(step.id, "cancelled", error="cancelled")
            raise
        except Exception as exc:  # a bug must fail its step, not hang or pass the run
            line = f"step {step.id}: internal error: {type(exc).__name__}: {exc}"
            self.errors[step.id] = line
            await self._parents_durable(step.id, quiet=True)
            self._record_step(step.id, "failed", error=line, code="internal")
            self.s.listener(RunEvent("step", step.id, "failed", step.id, message=line))
            raise StepFailed(step.id, "internal", line) from exc
        self.finished[step.id] = result
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
        self._place_out(step, result)
        return True

    def _artifact(self, sha: str) -> Artifact:
        if not self.s.artifacts.exists(sha):
            raise KeyError(sha)
        return as_input(self.s.artifacts.get(sha), self.s.artifacts.path(sha))

    async def _store_inputs(self, step: Step) -> None:
        """Check and store the file inputs ``step`` refers to, off the loop (a large video is
        read, hashed and probed), before its units resolve them from memory."""
        for ref in step_refs(step):
            if ref.kind != "inputs" or ref.name in self._inputs:
                continue
            decl = self.pipeline.inputs.get(ref.name)
            value = self.loaded.inputs.get(ref.name)
            if decl is None or decl.type not in ARTIFACT_INPUT_TYPES or value is None:
                continue
            storing = self._storing.get(ref.name)
            if storing is None:  # steps starting together store an input once
                work = asyncio.to_thread(self._input_artifact, ref.name, value)
                storing = self._storing[ref.name] = asyncio.ensure_future(work)
                # its error is read by every step awaiting it; one nobody awaits is dropped
                storing.add_done_callback(lambda f: f.cancelled() or f.exception())
            await asyncio.shield(storing)

    def _input_artifact(self, name: str, value: Any) -> Artifact:
        if name not in self._inputs:
            decl = self.pipeline.inputs[name]
            path = Path(str(value)).expanduser()
            if not path.is_absolute() and self.loaded.path is not None:
                path = self.loaded.path.parent / path
            if not path.is_file():
                what = "is a folder" if path.is_dir() else "does not exist"
                raise InvalidInput(
                    f"input {name}: {path} {what}",
                    where=f"inputs.{name}",
                    hint=f"pass an existing {decl.type} file with --set {name}=PATH",
                )
            try:  # checked as a model's output is: a wrong file fails here, not in a model
                meta = verify_output(path, decl.type)
            except BadOutput as exc:
                raise InvalidInput(
                    f"input {name}: {path.name} is not a usable {decl.type} ({exc.message})",
                    where=f"inputs.{name}",
                    hint=f"pass a {decl.type} file with --set {name}=PATH",
                ) from None
            rec = self.s.artifacts.put(path, decl.type, metadata=meta, lineage={"input": name})
            self._inputs[name] = as_input(rec, self.s.artifacts.path(rec.sha256))
        return self._inputs[name]

    async def _run_step(self, step: Step) -> StepOutputs:
        decision = self.plan.decisions[step.id]
        await self._store_inputs(step)
        resolver = Resolver(self.pipeline, self.loaded.inputs, self.finished, self._input_artifact)
        units = build_units(
            step,
            resolver,
            base_seed=self.base_seed,
            retry=self.pipeline.retry,
            profile=self.s.settings.profile,
        )
        for u in units:  # the critical path first when local workers are scarce
            u.priority = self.plan.ranks.get(step.id, 0.0)
        now = time.time()
        # "running" is acted on by nothing: it rides with the first attempt's write (one commit)
        self._record_step(step.id, "running", started_at=now, model=decision.chosen, soon=True)
        self.s.listener(
            RunEvent(
                "step", step.id, "running", step.id, decision.chosen, data={"units": len(units)}
            )
        )
        many = fans_out(step)
        results: list[Produced | BaseException]
        if len(units) == 1:  # the common case: no task and no gather for one unit
            try:
                results = [await self._run_unit(units[0], decision, many)]
            except Exception as exc:
                results = [exc]
        else:
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
            # the units that did succeed are ledgered with the step's failure: a resume reuses
            # them instead of paying again
            await self._parents_durable(step.id, quiet=True)
            await self.attempts.settle(ok)
            raise failures[0]
        groups = [
            [as_input(rec, path) for rec, path in zip(p.outputs, p.paths, strict=True)] for p in ok
        ]
        if step.select is not None and decision.scorer is not None and len(groups) > 1:
            # the scorer's row names the variants: they are durable and recorded first
            await self._parents_durable(step.id)
            await self.attempts.settle(ok)
            order = await self._select(step, decision.scorer, [g[0] for g in groups])
            groups = [groups[i] for i in order]
        if not groups:  # a foreach over an empty list
            outputs: list[Artifact] = []
        else:
            outputs = [g[0] for g in groups] if many else list(groups[0])
        done = [(u, r) for u, r in zip(units, results, strict=True) if isinstance(r, Produced)]
        record = StepRecord(
            run_id=self.s.run_id,
            key=step.id,
            step_id=step.id,
            status="succeeded",
            model=ok[0].model if ok else None,
            cache_key=ok[0].cache_key if len(ok) == 1 else None,
            outputs=tuple(a.sha256 for a in outputs),
            cost_usd=sum(p.cost_usd for p in ok),
            started_at=now,
            finished_at=time.time(),
        )
        # the outputs are verified and readable: dependents start now, while these become
        # durable and the step's records commit after its parents' (nothing a dependent pays
        # for or records goes before that, see _unit_barrier); _step starts that
        self._settling[step.id] = (record, done, many)
        return StepOutputs(outputs, groups)

    async def _make_durable(
        self, record: StepRecord, units: list[tuple[Unit, Produced]], many: bool
    ) -> None:
        """Settle a finished step: outputs on disk, then its rows, in one shared commit."""
        await self._parents_durable(record.step_id)
        await self.attempts.settle([p for _, p in units])
        for unit, p in units if many else ():
            self._record_unit(unit, p)
        self.s.journal.note_step(record)
        # the steps settling in the same loop iteration share the one commit
        await self.s.commit()
        self.s.listener(
            RunEvent(
                "step", record.step_id, "succeeded", record.step_id, record.model, record.cost_usd
            )
        )

    async def _unit_barrier(self, unit: Unit) -> None:
        """Before a unit's attempt is journaled ahead of its call: its step's parents durable."""
        await self._parents_durable(unit.key.split("[")[0].split(".")[0])

    async def _parents_durable(self, step_id: str, *, quiet: bool = False) -> None:
        """Wait until the steps ``step_id`` depends on have committed their records.

        Raises:
            PodiumError: a parent's records could not be written (unless ``quiet``).
        """
        waits = {d: self._durable[d] for d in self._deps.get(step_id, ()) if d in self._durable}
        pending = [t for t in waits.values() if not t.done()]
        if pending:  # (asyncio.wait costs a turn of the loop even when all are done)
            await asyncio.wait(pending)  # never cancels them, whatever happens to us
        for dep, task in waits.items():
            if quiet:
                continue
            if task.cancelled():
                raise asyncio.CancelledError
            if task.exception() is not None:
                raise PodiumError(
                    f"step {dep}, which this step needs, could not be recorded: {task.exception()}",
                    where=f"step {step_id}",
                    hint="check the store's disk and database, then `podium resume`",
                )

    def _hedge_after(self, unit: Unit, decision: Decision, chain: tuple[str, ...]) -> float | None:
        """When to start the next model of ``chain`` in parallel: the step's
        ``hedge_after_s``, else the chosen model's observed p95 once the plan used observed
        figures for it."""
        if len(chain) < 2:  # nothing to hedge with
            return None
        if unit.hedge_after_s is not None:
            return unit.hedge_after_s
        chosen = next((c for c in decision.candidates if c.model == decision.chosen), None)
        observed = chosen.observed if chosen is not None else None
        if not observed or not observed.get("used") or not observed.get("latency_p95_s"):
            return None
        return float(observed["latency_p95_s"])

    async def _run_unit(self, unit: Unit, decision: Decision, many: bool) -> Produced:
        if many:
            done = self.prior_steps.get(unit.key)
            if done is not None and done.status == "succeeded":
                try:
                    recs = [self.s.artifacts.get(h) for h in done.outputs]
                    if all(self.s.artifacts.exists(h) for h in done.outputs):
                        paths = [self.s.artifacts.path(h) for h in done.outputs]
                        return Produced(done.model or "", recs, done.cost_usd, paths=paths)
                except KeyError:
                    pass
            self._record_step(unit.key, "running", started_at=time.time(), soon=True)
        # a unit's own record is written with its step's, once its outputs are durable
        if unit.key not in self.s.prior:
            return await self._walk(unit, decision)
        try:  # a resume: what the stopped run left open and this one did not take up is closed
            return await self._walk(unit, decision)
        finally:
            await asyncio.shield(self.attempts.close_leftovers(unit))

    async def _walk(self, unit: Unit, decision: Decision) -> Produced:
        """A unit's outputs: from before a crash, from the cache, or along its chain."""
        done_before = self.attempts.from_prior(unit)
        if done_before is not None:  # it finished before a crash: never buy it twice
            return done_before
        for model in decision.chain:
            hit = self.attempts.from_cache(unit, model)
            if hit is not None:
                self.s.listener(RunEvent("step", unit.key, "cached", unit.step.id, model))
                return hit
        chain = self.attempts.resumed_chain(unit, decision.chain)
        return await run_chain(
            chain,
            lambda model, hedge: self.attempts.on_model(unit, model, hedge=hedge),
            self._hedge_after(unit, decision, chain),
            spare=partial(self._spare, unit),
        )

    def _spare(self, unit: Unit, produced: Produced) -> None:
        """A result that lost a hedge race by a hair: paid for, so its attempt is ledgered as
        it ended (once its outputs are durable, after the step's parents), though not used."""

        async def ledger() -> None:
            await self._parents_durable(unit.step.id, quiet=True)
            await self.attempts.settle([produced])

        self._spares.append(asyncio.ensure_future(ledger()))

    def _record_unit(self, unit: Unit, p: Produced) -> None:
        self._record_step(
            unit.key,
            "succeeded",
            finished_at=time.time(),
            model=p.model,
            outputs=tuple(r.sha256 for r in p.outputs),
            cost=p.cost_usd,
            cache_key=p.cache_key,
            soon=True,
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
            text = self.s.artifacts.path_of(sheet).read_text(encoding="utf-8")
            scores = read_scores(sheet, text, len(items), step.select.by if step.select else "")
            return produced

        try:
            produced = await run_chain(self.attempts.resumed_chain(unit, scorer.chain), score_on)
        finally:
            if unit.key in self.s.prior:
                await asyncio.shield(self.attempts.close_leftovers(unit))
        await self._parents_durable(step.id)
        await self.attempts.settle([produced])
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
        soon: bool = False,
    ) -> None:
        """Journal a step's state (``soon``: with the next write, see ``Journal.note_step``)."""
        step_id = key.split("[")[0].split(".")[0]
        write = self.s.journal.note_step if soon else self.s.journal.put_step
        write(
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

    def _place_out(self, step: Step, result: StepOutputs) -> None:
        """Link (or copy) a step's files into the out dir, off the loop and the critical path."""
        from podium.execute.units import ordered_files

        pairs = []
        for name, art in ordered_files(step.id, result.files, fans_out(step)):
            target = self.out / name
            pairs.append((art.path, target))
            self.outputs.append(RunOutput(step.id, target, str(art.type), art.sha256))
        self.s.chores.place(pairs)
