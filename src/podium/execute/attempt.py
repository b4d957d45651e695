"""Attempts: one call of one model for one unit of work, and the retries of that model.

Every state change is journaled before it is acted on: an attempt is written ``submitted``
before the provider is called, a remote attempt's request id and resume state right after the
provider accepts it (before waiting), and its outcome before the runner moves on. The most the
attempt can cost is reserved before the call and settled after. Outputs count only once
:func:`podium.media.verify.verify_output` accepts them and they are in the artifact store.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from podium.catalog.card import ModelCard
from podium.catalog.catalog import Catalog
from podium.errors import (
    BadOutput,
    BudgetExceeded,
    Cancelled,
    PodiumError,
    Timeout,
    Transient,
    Unavailable,
)
from podium.execute.breaker import Breakers, provider_key
from podium.execute.budget import BudgetAccountant, Reservation
from podium.execute.commit import Chores, GroupCommit, GroupSettle
from podium.execute.events import Listener, RunEvent, no_listener
from podium.execute.executor import AttemptHandle, Executor
from podium.execute.keys import cache_key, idempotency_key
from podium.execute.scratch import ScratchDirs
from podium.media.verify import verify_output
from podium.providers.base import InputArtifact, InputValue, Job, Provider, Request, Result
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec.models import RetryPolicy, Step
from podium.store.base import ArtifactStore, CacheIndex, Journal
from podium.store.records import ArtifactRecord, AttemptRecord

OPEN = ("submitted", "running")
# failures that end no model's turn: our budget or our cancel, not the model; a resume may try
# it again (a breaker that kept a model out recorded no attempt at all)
_NO_TURN = frozenset({BudgetExceeded.code, Cancelled.code})


@dataclass
class Unit:
    """One unit of work: a step, or one variant or foreach item of it, references resolved.

    Attributes:
        key: ``step`` or ``step[i]``.
        step: the step it belongs to.
        index: the variant or item index, if any.
        prompt: the resolved prompt.
        inputs: slot -> artifact(s).
        params: resolved params.
        seed: the deterministic seed.
        retry: the retry policy.
        timeout_s: the per-attempt timeout, if the step sets one.
        hedge_after_s: start the next fallback in parallel after this long.
        use_cache: whether the cache may answer.
        priority: the step's rank in the plan (its expected time plus the slowest chain waiting
            on it): local workers take waiting attempts highest rank first.
    """

    key: str
    step: Step
    index: int | None
    prompt: Any
    inputs: dict[str, InputValue]
    params: dict[str, Any]
    seed: int | None
    retry: RetryPolicy
    timeout_s: float | None = None
    hedge_after_s: float | None = None
    use_cache: bool = True
    priority: float = 0.0

    @property
    def expected_duration_s(self) -> float | None:
        """The length asked for (prompt ``duration_s`` or param), checked on audio/video."""
        value = self.prompt.get("duration_s") if isinstance(self.prompt, dict) else None
        value = value if value not in (None, "") else self.params.get("duration_s")
        try:
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None


@dataclass
class Produced:
    """A unit's verified, stored outputs.

    Attributes:
        model: ``provider/model@version`` that made them.
        outputs: the artifact records, in the model's output order.
        cost_usd: what it cost (0 for a cache hit).
        cache_hit: whether the cache answered.
        cache_key: the key it is cached under.
        paths: a readable file per output, in the same order.
        ledger: the attempt's outcome row, journaled by :meth:`AttemptRunner.settle` once the
            outputs are durable (``None`` once it is, or when it needs no row).
        fresh: the outputs were put with ``later`` and still need settling.
        settling: their settling, begun as soon as they were stored (see :meth:`settle`).
        cache_put: remember them in the cache once settled.
    """

    model: str
    outputs: list[ArtifactRecord]
    cost_usd: float = 0.0
    cache_hit: bool = False
    cache_key: str | None = None
    paths: list[Path] = field(default_factory=list)
    ledger: AttemptRecord | None = None
    fresh: bool = False
    settling: asyncio.Future[None] | None = None
    cache_put: bool = False


@dataclass
class Services:
    """What the attempts of one run share."""

    settings: Settings
    catalog: Catalog
    registry: ProviderRegistry
    executor: Executor
    journal: Journal
    artifacts: ArtifactStore
    cache: CacheIndex
    breakers: Breakers
    budget: BudgetAccountant
    run_id: str
    scratch: ScratchDirs
    listener: Listener
    # housekeeping (work-dir cleanup, out-dir links) gets its own threads so it never queues
    # ahead of the verify-and-store work on the critical path (the runner's, kept across runs)
    background: ThreadPoolExecutor
    prior: dict[str, list[AttemptRecord]] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    # awaited before an attempt of this unit is journaled ahead of its call (money or a remote
    # job): the steps it depends on must be durable first (the run job sets it)
    barrier: Callable[[Unit], Awaitable[None]] = field(default=lambda unit: _nothing())
    chores: Chores = field(init=False)
    commit: GroupCommit = field(init=False)
    settle: GroupSettle = field(init=False)

    def __post_init__(self) -> None:
        self.chores = Chores(self.background)
        self.commit = GroupCommit(self.journal)
        self.settle = GroupSettle(self.artifacts)


async def _nothing() -> None:
    """An awaitable that is done at once."""


def breaker_keys(card: ModelCard, provider: Provider) -> list[str]:
    """Breakers guarding ``card``: its model, and its provider when remote."""
    keys = [card.id]
    if provider.remote:
        keys.append(provider_key(card.provider))
    return keys


def backoff_s(policy: RetryPolicy, retry_no: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**n)]."""
    cap = min(policy.max_backoff_s, policy.backoff_s * (2**retry_no))
    return rng.uniform(0, cap)


def default_timeout(card: ModelCard) -> float:
    """A generous timeout when the step sets none: ten times the p95 prior, at least 30 s."""
    return min(3600.0, max(30.0, 10 * card.priors.latency_p95_s + card.priors.cold_start_s))


def _text_of(value: Any) -> Any:
    """Artifacts of text-like types inside prompts and params become their text."""
    if isinstance(value, InputArtifact) and value.type in ("text", "subtitles", "json"):
        return value.text()
    if isinstance(value, dict):
        return {k: _text_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_of(v) for v in value]
    return value


class AttemptRunner:
    """Runs a unit on one model: attempts, retries with backoff, Retry-After, timeouts.

    Args:
        services: the run's shared services.
    """

    def __init__(self, services: Services) -> None:
        self.s = services
        # (unit key, model) -> cache key: looked up before the call and again for the
        # outputs' lineage; a unit's prompt, inputs, seed and params are fixed for the run
        self._keys: dict[tuple[str, str], str] = {}
        # attempts left open by the run before a resume that this one has taken up (polled, or
        # run again) or closed: the rest are cancelled once their unit is done
        self._taken: set[str] = set()

    # -- cache -------------------------------------------------------------------------------

    def key_for(self, unit: Unit, model: str) -> str:
        """The unit's cache key on ``model``."""
        key = self._keys.get((unit.key, model))
        if key is None:
            key = self._keys[unit.key, model] = cache_key(
                task=str(unit.step.task),
                model=model,
                prompt=unit.prompt,
                inputs=unit.inputs,
                seed=unit.seed,
                params=unit.params,
            )
        return key

    def from_cache(self, unit: Unit, model: str) -> Produced | None:
        """The unit's outputs on ``model`` from the cache (journaled as a hit), if present."""
        if not unit.use_cache:
            return None
        ck = self.key_for(unit, model)
        hashes = self.s.cache.get(ck)
        if not hashes or not all(self.s.artifacts.exists(h) for h in hashes):
            return None
        records = [self.s.artifacts.get(h) for h in hashes]
        now = time.time()
        card = self.s.catalog.get(model)
        # a hit costs nothing and calls nobody: its row commits with the step's record
        ledger = AttemptRecord(
            attempt_id=f"{self.s.run_id}:{unit.key}:cache",
            run_id=self.s.run_id,
            step_key=unit.key,
            model=model,
            provider=card.provider,
            idempotency_key=f"cache:{self.s.run_id}:{unit.key}:{ck[:16]}",
            status="cached",
            started_at=now,
            finished_at=now,
            latency_s=0.0,
            cache_hit=True,
            outputs=tuple(hashes),
            metadata={"cache_key": ck},
        )
        paths = [self.s.artifacts.path(h) for h in hashes]
        return Produced(
            model, records, 0.0, cache_hit=True, cache_key=ck, paths=paths, ledger=ledger
        )

    async def settle(self, produced: Sequence[Produced]) -> None:
        """Make fresh outputs durable (grouped with other steps'), then journal their rows.

        The attempts' rows and cache entries are held for the caller's commit, after the
        artifacts they name are on disk and held themselves.
        """
        begun = [p.settling for p in produced if p.fresh and p.settling is not None]
        fresh = [r for p in produced if p.fresh and p.settling is None for r in p.outputs]
        if fresh:
            begun.append(self.s.settle.begin(fresh))
        for settling in begun:
            await settling
        for p in produced:
            p.fresh = False
            p.settling = None
            if p.ledger is not None:
                self.s.journal.note_attempt(p.ledger)
                p.ledger = None
            if p.cache_put and p.cache_key is not None:
                self.s.cache.put(p.cache_key, [r.sha256 for r in p.outputs], p.model)
                p.cache_put = False

    def from_prior(self, unit: Unit) -> Produced | None:
        """The outputs of an attempt of ``unit`` that succeeded before a crash, if stored.

        Its cost is already in the ledger, so the unit costs nothing more.
        """
        for a in reversed(self.s.prior.get(unit.key, [])):
            if a.status != "succeeded" or not a.outputs:
                continue
            if not all(self.s.artifacts.exists(h) for h in a.outputs):
                continue
            records = [self.s.artifacts.get(h) for h in a.outputs]
            paths = [self.s.artifacts.path(h) for h in a.outputs]
            ck = a.metadata.get("cache_key")
            return Produced(a.model, records, 0.0, cache_key=ck, paths=paths)
        return None

    # -- a resumed unit ------------------------------------------------------------------------

    def resumed_chain(self, unit: Unit, chain: Sequence[str]) -> tuple[str, ...]:
        """The models ``unit`` goes on along: its chain without those it had already moved past
        before the run stopped (see :func:`_given_up`), which are never tried, nor paid, again.
        A unit with no earlier attempts keeps the whole chain.

        Raises:
            PodiumError: every model of the chain had failed before (with the last one's code).
        """
        prior = self.s.prior.get(unit.key)
        if not prior:
            return tuple(chain)
        by_model: dict[str, list[AttemptRecord]] = {}
        for a in prior:
            by_model.setdefault(a.model, []).append(a)
        left = tuple(m for m in chain if not _given_up(by_model.get(m, []), unit.retry.attempts))
        if left:
            return left
        last = next(a for a in reversed(prior) if a.status == "failed")
        tried = "; ".join(f"{m}: {by_model[m][-1].error_code}" for m in chain)
        error = PodiumError(
            f"every model had failed before the run stopped ({tried}); last: {last.error}",
            where=f"step {unit.key}",
            hint="see `podium show RUN` for each attempt",
        )
        error.code = last.error_code or "failed"
        raise error

    async def close_leftovers(self, unit: Unit) -> None:
        """Cancel the attempts ``unit`` had open before the run stopped that this run did not
        take up again: a hedge, or a primary its hedge beat this time. Unwatched, a remote job
        would run on, and bill, with its row left "running". Each is ledgered as cancelled, at
        what the provider may still bill for it (as a cancelled hedge is)."""
        for a in self.s.prior.get(unit.key, ()):
            if a.status not in OPEN or a.attempt_id in self._taken:
                continue
            self._taken.add(a.attempt_id)
            cost = 0.0
            provider = self._provider_of(a.model)
            if provider is not None and provider.remote and a.request_id:
                card = self.s.catalog.get(a.model)
                request = self.request(unit, card, a.idempotency_key, self.s.scratch.root)
                # it may have ended already: what it may cost is ledgered either way
                with contextlib.suppress(PodiumError, NotImplementedError):
                    await provider.cancel(Job(request, a.request_id, dict(a.state)))
                cost = provider.estimate_cost(card, request.params)
            self.s.budget.charge(cost)
            why = Cancelled(
                "left open when the run stopped; cancelled on resume, as the step went on "
                "without it",
                where=f"step {unit.key}, model {a.model}",
            )
            self._finish(a, "cancelled", why, cost)

    def _provider_of(self, model: str) -> Provider | None:
        if model.split("@")[0] not in self.s.catalog:
            return None
        try:
            return self.s.registry.for_card(self.s.catalog.get(model))
        except KeyError:
            return None

    # -- one model, with retries ---------------------------------------------------------------

    async def on_model(self, unit: Unit, model: str, *, hedge: bool = False) -> Produced:
        """Run ``unit`` on ``model``, retrying transient failures.

        Raises:
            PodiumError: the model's final failure (the caller falls back).
        """
        card = self.s.catalog.get(model)
        try:
            provider = self.s.registry.for_card(card)
        except KeyError:
            raise Unavailable(
                f"provider {card.provider!r} is not installed",
                where=f"step {unit.key}, model {card.ref}",
                hint="see `podium models` for what can run here",
            ) from None
        keys = breaker_keys(card, provider)
        prior = [a for a in self.s.prior.get(unit.key, []) if a.model == card.ref]
        numbers = [int(a.metadata.get("attempt_no", 0)) for a in prior]
        next_no = max(numbers, default=0)
        reopen = next((a for a in reversed(prior) if a.status in OPEN), None)
        # a resumed unit has the retries its earlier transient failures left (at least one:
        # a model with none left is out of its resumed chain)
        used = _retries_used(prior)
        tries = max(unit.retry.attempts - used, 1)
        for i in range(tries):
            resume_rec = reopen if i == 0 else None
            if resume_rec is None:
                next_no += 1
            number = int(resume_rec.metadata.get("attempt_no", 0)) if resume_rec else next_no
            why = self.s.breakers.blocked(keys)
            if why:
                raise Unavailable(why, where=f"step {unit.key}, model {card.ref}")
            if resume_rec is not None:
                self._taken.add(resume_rec.attempt_id)
            try:
                return await self.attempt(unit, card, provider, number, hedge, resume_rec)
            except Transient as exc:
                if i + 1 >= tries:
                    raise
                delay = backoff_s(unit.retry, used + i, self.s.rng)
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, self.s.settings.max_retry_after_s))
                self._emit(unit, "retrying", card.ref, message=exc.one_line(), delay_s=delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    # -- one attempt ------------------------------------------------------------------------

    def request(self, unit: Unit, card: ModelCard, key: str, work_dir: Path) -> Request:
        """The provider request of an attempt."""
        prompt = _text_of(unit.prompt)
        return Request(
            step_id=unit.key,
            task=unit.step.task,
            card=card,
            prompt=prompt,
            prompt_text=card.render_prompt(prompt),
            inputs=unit.inputs,
            params=_text_of(unit.params),
            seed=unit.seed,
            outputs=card.outputs_for(unit.step.task),
            work_dir=work_dir,
            idempotency_key=key,
            timeout_s=unit.timeout_s,
            credentials={env: v for env in card.credentials if (v := self.s.settings.secret(env))},
            priority=unit.priority,
        )

    async def attempt(
        self,
        unit: Unit,
        card: ModelCard,
        provider: Provider,
        number: int,
        hedge: bool,
        resume_rec: AttemptRecord | None,
    ) -> Produced:
        """One call: journal, reserve, submit, journal the request id, wait, verify, store."""
        key = (
            resume_rec.idempotency_key
            if resume_rec
            else idempotency_key(self.s.run_id, unit.key, card.ref, number)
        )
        work_dir = self.s.scratch.take(key)
        clean = False  # whether the directory may serve another attempt afterwards
        request = self.request(unit, card, key, work_dir)
        timeout = unit.timeout_s or default_timeout(card)
        max_cost = provider.max_cost(card, request.params)
        rec = _record(self.s.run_id, unit, card, key, number, hedge, resume_rec, max_cost)
        try:
            reservation = self.s.budget.reserve(max_cost, step=unit.key, model=card.ref)
        except PodiumError as exc:
            self._finish(rec, "failed", error=exc)
            raise
        if provider.remote or max_cost > 0:
            await self.s.barrier(unit)  # nothing paid or sent before the steps it needs are
            # money or a remote job: durable before the call, and within the daily budgets
            # (a job already accepted before a crash was admitted then: it is only polled)
            write = partial(self.s.journal.put_attempt, rec)
            try:
                if resume_rec is not None:
                    write()
                else:
                    self.s.budget.admit(reservation, self.s.journal, write, model=card.ref)
            except BudgetExceeded as exc:
                self.s.budget.settle(reservation, 0.0)
                self._finish(rec, "failed", exc)
                raise
        else:
            # a free local attempt: a crash re-runs it whatever was written, so its
            # "submitted" commits with its outcome, in that one transaction
            self.s.journal.note_attempt(rec)
        self._emit(unit, "attempt", card.ref, attempt=number, hedge=hedge)
        handle: AttemptHandle | None = None
        t0 = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                handle = await self._submit(provider, request, resume_rec)
                if provider.remote:
                    rec = replace(
                        rec,
                        status="running",
                        request_id=handle.job.request_id,
                        state=dict(handle.job.state),
                    )
                    self.s.journal.put_attempt(rec)  # before waiting: a crash resumes by polling
                pump = self._pump(unit, card, handle)
                try:
                    result = await handle.result()
                except BaseException:
                    if pump is not None:
                        pump.cancel()
                    raise
                if pump is not None:
                    await pump  # the stream ends with the attempt: let the last events through
            records, paths, ck = await self.store(unit, card, request, result)
            clean = True
        except BaseException as raw:
            error = self._classify(raw, unit, card, timeout)
            await self._failed(rec, error, handle, provider, request, reservation)
            if isinstance(raw, asyncio.CancelledError):
                raise
            raise error from None
        finally:
            # off the loop: even an empty directory waits on the filesystem while other steps'
            # artifacts are fsynced. A failed attempt's engine may still write: never reused
            scratch = self.s.scratch
            self.s.chores.do(partial(scratch.recycle if clean else scratch.remove, work_dir))
        cost = float(result.cost_usd)
        self.s.budget.settle(reservation, cost)
        # the success is journaled by settle(), once the outputs are durable, and commits with
        # the step's (or unit's) record in one transaction
        ledger = replace(
            rec,
            status="succeeded",
            finished_at=time.time(),
            cost_usd=cost,
            latency_s=time.monotonic() - t0,
            outputs=tuple(r.sha256 for r in records),
            request_id=result.request_id or rec.request_id,
            metadata={**rec.metadata, **result.metadata, "cache_key": ck},
        )
        self.s.breakers.record(breaker_keys(card, provider), None)
        return Produced(
            card.ref,
            records,
            cost,
            cache_key=ck,
            paths=paths,
            ledger=ledger,
            fresh=True,
            # the bytes go to disk now, grouped with other steps', while the runner moves on
            settling=self.s.settle.begin(records),
            cache_put=unit.use_cache,
        )

    def _pump(
        self, unit: Unit, card: ModelCard, handle: AttemptHandle
    ) -> asyncio.Task[None] | None:
        """Forward the provider's progress to the run's listener (only when someone listens)."""
        if self.s.listener is no_listener:
            return None

        async def pump() -> None:
            async for event in handle.events():
                if event.kind == "progress" and event.progress is not None:
                    self.s.listener(
                        RunEvent(
                            "progress",
                            unit.key,
                            "running",
                            unit.step.id,
                            card.ref,
                            progress=event.progress,
                        )
                    )

        return asyncio.ensure_future(pump())

    async def _failed(
        self,
        rec: AttemptRecord,
        error: PodiumError,
        handle: AttemptHandle | None,
        provider: Provider,
        request: Request,
        reservation: Reservation,
    ) -> None:
        """Stop what still runs, settle the money, journal the failure, tell the breakers."""
        cancelled = isinstance(error, Cancelled)
        if handle is not None and (cancelled or isinstance(error, Timeout)):
            # a remote job must not keep running (and billing) after we stop waiting
            await asyncio.shield(handle.cancel())
        # an accepted attempt we cancelled (a hedge loser, Ctrl-C) may still be billed
        cost = provider.estimate_cost(request.card, request.params) if cancelled and handle else 0.0
        self.s.budget.settle(reservation, cost)
        self._finish(rec, "cancelled" if cancelled else "failed", error, cost)
        self.s.breakers.record(breaker_keys(request.card, provider), error)

    async def _submit(
        self, provider: Provider, request: Request, resume_rec: AttemptRecord | None
    ) -> AttemptHandle:
        ex = self.s.executor
        if resume_rec is not None and provider.remote:
            if resume_rec.request_id:
                return await ex.submit(
                    provider, request, resume=(resume_rec.request_id, resume_rec.state)
                )
            # the crash came between the POST and its answer: ask before submitting again
            found = await provider.find(request)
            if found is not None and found.request_id:
                return await ex.submit(provider, request, resume=(found.request_id, found.state))
        try:
            return await ex.submit(provider, request)
        except Transient:
            if not provider.remote:
                raise
            # the POST may have been made though its answer was lost: never submit twice
            found = await provider.find(request)
            if found is None or not found.request_id:
                raise
            return await ex.submit(provider, request, resume=(found.request_id, found.state))

    def _classify(
        self, raw: BaseException, unit: Unit, card: ModelCard, timeout: float
    ) -> PodiumError:
        where = f"step {unit.key}, model {card.ref}"
        if isinstance(raw, TimeoutError):
            return Timeout(
                f"no result after {timeout:g} s",
                where=where,
                hint="raise the step's timeout_s, or let the fallback run",
            )
        if isinstance(raw, asyncio.CancelledError):
            return Cancelled("attempt cancelled", where=where)
        if isinstance(raw, PodiumError):
            if raw.where is None:
                raw.where = where
            return raw
        return BadOutput(
            f"{card.ref} failed unexpectedly: {type(raw).__name__}: {raw}",
            where=where,
            hint="falling back; report it if it persists",
        )

    def _finish(
        self, rec: AttemptRecord, status: str, error: PodiumError, cost: float = 0.0
    ) -> None:
        self.s.journal.put_attempt(
            replace(
                rec,
                status=status,
                finished_at=time.time(),
                cost_usd=cost,
                error_code=error.code,
                error=error.one_line(),
            )
        )

    async def store(
        self, unit: Unit, card: ModelCard, request: Request, result: Result
    ) -> tuple[list[ArtifactRecord], list[Path], str]:
        """Verify every output and put it in the artifact store with its lineage."""
        expected = list(request.outputs)
        got = [str(o.type) for o in result.outputs]
        if got[: len(expected)] != [str(t) for t in expected]:
            raise BadOutput(f"{card.ref} returned {got or 'nothing'}, expected {expected}")
        ck = self.key_for(unit, card.ref)
        lineage = {
            "run_id": self.s.run_id,
            "step": unit.step.id,
            "key": unit.key,
            "model": card.id,
            "version": card.version,
            "inputs": _input_hashes(unit.inputs),
            "seed": unit.seed,
            "params": {k: v for k, v in unit.params.items() if not isinstance(v, InputArtifact)},
            "cache_key": ck,
        }
        records, paths = [], []
        for i, out in enumerate(result.outputs[: len(expected)]):
            duration = unit.expected_duration_s if i == 0 else None
            args = (out.path, str(out.type), duration, out.metadata, lineage)
            # off the loop: decoding media must not stall other steps. A small text-like file
            # is checked and hashed here: the hand-off to a thread and back costs more (and
            # sits on the critical path); no fsync happens here either way (settle does them)
            if str(out.type) in INLINE_TYPES and _size(out.path) <= INLINE_BYTES:
                rec, path = self._verify_put(*args)
            else:
                rec, path = await asyncio.to_thread(self._verify_put, *args)
            records.append(rec)
            paths.append(path)
        return records, paths, ck

    def _verify_put(
        self,
        path: Path,
        type_: str,
        duration: float | None,
        metadata: Mapping[str, Any],
        lineage: dict[str, Any],
    ) -> tuple[ArtifactRecord, Path]:
        meta = verify_output(path, type_, expected_duration_s=duration)
        # a file in the attempt's scratch directory is moved into the store, not copied, and
        # readable there at once: dependents may start while settle() makes it durable and
        # holds its record, which then commits with the attempt's success (one transaction)
        rec = self.s.artifacts.put(
            path,
            type_,
            metadata={**metadata, **meta},
            lineage=lineage,
            hold=True,
            take=path.is_relative_to(self.s.scratch.root),
            later=True,
        )
        return rec, self.s.artifacts.path_of(rec)

    def _emit(
        self, unit: Unit, status: str, model: str, message: str | None = None, **data: Any
    ) -> None:
        if self.s.listener is no_listener:
            return
        self.s.listener(
            RunEvent("attempt", unit.key, status, unit.step.id, model, message=message, data=data)
        )


def _record(
    run_id: str,
    unit: Unit,
    card: ModelCard,
    key: str,
    number: int,
    hedge: bool,
    resume_rec: AttemptRecord | None,
    max_cost: float,
) -> AttemptRecord:
    """The ``submitted`` record of an attempt (a resumed one keeps its request id and state)."""
    return AttemptRecord(
        attempt_id=key,
        run_id=run_id,
        step_key=unit.key,
        model=card.ref,
        provider=card.provider,
        idempotency_key=key,
        status="submitted",
        started_at=resume_rec.started_at if resume_rec else time.time(),
        request_id=resume_rec.request_id if resume_rec else None,
        state=dict(resume_rec.state) if resume_rec else {},
        reserved_usd=max_cost,
        hedge=hedge,
        metadata={"attempt_no": number, **({"resumed": True} if resume_rec else {})},
    )


# outputs small enough to verify and hash on the loop: parsing them is cheap and bounded
INLINE_TYPES = frozenset({"text", "json", "subtitles"})
INLINE_BYTES = 64 * 1024


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return INLINE_BYTES + 1  # let the worker report what is wrong with it


def _input_hashes(inputs: Mapping[str, InputValue]) -> list[str]:
    out: list[str] = []
    for value in inputs.values():
        items = value if isinstance(value, tuple) else (value,)
        out.extend(a.sha256 for a in items)
    return out


__all__ = [
    "AttemptRunner",
    "Produced",
    "Services",
    "Unit",
    "backoff_s",
    "breaker_keys",
]


def _given_up(records: Sequence[AttemptRecord], attempts: int) -> bool:
    """Whether a unit had moved past a model before its run stopped: the model's last failure
    ended its turn at once (a refusal, bad output, a timeout ...), or its transient failures
    used every retry. A model with an attempt still open, or whose attempts were only
    cancelled or refused for budget, keeps its turn."""
    if any(a.status in OPEN for a in records):
        return False
    failed = [a for a in records if a.status == "failed" and a.error_code not in _NO_TURN]
    if not failed:
        return False
    return failed[-1].error_code != Transient.code or _retries_used(failed) >= attempts


def _retries_used(records: Sequence[AttemptRecord]) -> int:
    """How many of a model's tries earlier transient failures used."""
    return sum(1 for a in records if a.status == "failed" and a.error_code == Transient.code)
