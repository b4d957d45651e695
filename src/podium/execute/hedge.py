"""Walking a decision's chain of models: fallbacks, and hedging a slow attempt.

The chain is tried in order. A model's final failure moves on to the next one, except
:class:`InvalidInput` (the request is wrong whatever model runs it: fail fast). When an attempt
runs past ``hedge_after_s`` and a next model exists, that model starts in parallel; the first
verified result wins and the other is cancelled (a remote cancel call), both costs ledgered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from podium.errors import InvalidInput, PodiumError
from podium.execute.attempt import Produced

TryModel = Callable[[str, bool], Awaitable[Produced]]


class ChainFailed(PodiumError):
    """Every model of the chain failed; carries the last failure's code and each model's error.

    Args:
        errors: (model, error) per model tried.
    """

    def __init__(self, errors: Sequence[tuple[str, PodiumError]]) -> None:
        last = errors[-1][1]
        tried = "; ".join(f"{m}: {e.code}" for m, e in errors)
        message = last.message
        if len(errors) > 1:
            message = f"every model failed ({tried}); last: {last.message}"
        super().__init__(
            message,
            hint=last.hint,
            where=last.where,
            retry_after=last.retry_after,
        )
        self.errors = list(errors)
        self.code = last.code
        self.last = last


async def _cancel(tasks: set[asyncio.Task[Produced]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(BaseException):
            await task


async def run_chain(
    chain: Sequence[str],
    try_model: TryModel,
    hedge_after_s: float | None = None,
    spare: Callable[[Produced], None] | None = None,
) -> Produced:
    """Run ``try_model`` along ``chain`` until one model produces a verified result.

    Args:
        chain: models in order (``provider/model@version``).
        try_model: runs the unit on a model (``hedge`` True when started as a hedge).
        hedge_after_s: start the next model in parallel after this long, if set.
        spare: receives a result that also succeeded but lost the race (a primary and its
            hedge finishing together): it was paid for, so it is ledgered, though not used.

    Raises:
        ChainFailed: every model failed (or the first failure was InvalidInput).
    """
    if not chain:
        raise PodiumError("no model can run this step", hint="see `podium plan` for why")
    if hedge_after_s is None or len(chain) < 2:  # nothing to hedge with
        return await _in_turn(chain, try_model)
    errors: list[tuple[str, PodiumError]] = []
    pending: dict[asyncio.Task[Produced], str] = {}
    position = 0
    hedged_at = -1

    def start(hedge: bool) -> None:
        nonlocal position
        model = chain[position]
        position += 1
        pending[asyncio.ensure_future(try_model(model, hedge))] = model

    start(False)
    try:
        while pending:
            can_hedge = (
                hedge_after_s is not None
                and len(pending) == 1
                and position < len(chain)
                and hedged_at != position
            )
            done, _ = await asyncio.wait(
                pending,
                timeout=hedge_after_s if can_hedge else None,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:
                hedged_at = position
                start(True)
                continue
            won = next((t for t in done if t.exception() is None), None)
            if won is not None:
                for task in done:
                    pending.pop(task)
                    if task is not won and task.exception() is None and spare is not None:
                        spare(task.result())
                return won.result()  # the others still pending are cancelled below
            for task in done:
                model = pending.pop(task)
                exc = task.exception()
                assert exc is not None  # none of this round's succeeded
                if not isinstance(exc, PodiumError):
                    raise exc
                errors.append((model, exc))
                if isinstance(exc, InvalidInput):
                    raise ChainFailed(errors) from None
            if not pending and position == len(chain) - 1:
                # the last model has nothing to hedge with: it is awaited in place
                return await _in_turn(chain[position:], try_model, errors)
            if not pending and position < len(chain):
                start(False)
    finally:
        if pending:
            await _cancel(set(pending))
    raise ChainFailed(errors)


async def _in_turn(
    chain: Sequence[str], try_model: TryModel, errors: list[tuple[str, PodiumError]] | None = None
) -> Produced:
    """The chain without hedging: one model at a time, awaited in place (no task per model).

    ``errors`` are the failures of models tried before, reported with these.
    """
    errors = [] if errors is None else errors
    for model in chain:
        try:
            return await try_model(model, False)
        except PodiumError as exc:
            errors.append((model, exc))
            if isinstance(exc, InvalidInput):
                break
    raise ChainFailed(errors)
