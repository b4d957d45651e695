"""Budgets: reserve the most an attempt can cost before calling, settle the actual after.

The accountant lives on the runner's single event loop and never awaits between checking and
reserving, so concurrent steps can never overshoot: a reservation either fits every budget
or raises :class:`BudgetExceeded` naming the step, the amounts and the budget. Money is counted
in micro-dollars, so ten reservations of $0.10 fit a $1.00 budget exactly.

The run's ``--budget`` is this run's alone and is checked in :meth:`BudgetAccountant.reserve`.
The daily budgets (a pipeline's, and the global one) are shared with every run, in any process,
so they are checked in :meth:`BudgetAccountant.admit`, where a paid attempt's row, which carries
its reservation, is written: inside the journal's exclusive section, it rereads what every run
has spent or holds reserved in the window, and writes the row only if the attempt fits. Two runs
started together can therefore never overshoot a daily budget between them either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from podium.errors import BudgetExceeded
from podium.store.base import Journal

MICRO = 1_000_000


def to_micro(usd: float) -> int:
    """USD as integer micro-dollars."""
    return round(usd * MICRO)


@dataclass
class Limit:
    """One budget.

    Attributes:
        name: how a user knows it (``--budget``, ``budget_daily_usd``).
        limit_usd: the cap.
        spent_before_usd: what was spent in its window before this run (for the estimate's
            check before the run starts).
        since: for a budget shared with other runs (a daily one), the unix time its window
            opened; ``None`` for the run's own.
        pipeline: for a shared budget, the pipeline it is limited to (``None``: every run).
    """

    name: str
    limit_usd: float
    spent_before_usd: float = 0.0
    since: float | None = None
    pipeline: str | None = None
    used_micro: int = field(default=0, init=False)

    def left_usd(self) -> float:
        """What is left of this budget."""
        return (to_micro(self.limit_usd - self.spent_before_usd) - self.used_micro) / MICRO


@dataclass
class Reservation:
    """Money held for one attempt until it is settled."""

    step: str
    micro: int
    settled: bool = False


class BudgetAccountant:
    """Reserves and settles against every budget of a run at once.

    Args:
        limits: the budgets in force (none means unlimited).
    """

    def __init__(self, limits: list[Limit] | None = None) -> None:
        self.limits = list(limits or [])
        self.spent_micro = 0

    @property
    def spent_usd(self) -> float:
        """What this run has spent (settled attempts)."""
        return self.spent_micro / MICRO

    def left_usd(self) -> float | None:
        """The tightest budget's remainder, or ``None`` when unlimited."""
        if not self.limits:
            return None
        return min(limit.left_usd() for limit in self.limits)

    def reserve(self, amount_usd: float, *, step: str, model: str) -> Reservation:
        """Hold ``amount_usd`` for an attempt of ``step`` on ``model``.

        Raises:
            BudgetExceeded: it does not fit one of the budgets.
        """
        micro = to_micro(amount_usd)
        for limit in self.limits:
            if limit.since is not None:  # shared with other runs: checked by admit()
                continue
            left = to_micro(limit.limit_usd - limit.spent_before_usd) - limit.used_micro
            if micro > left:
                raise _exceeded(limit, amount_usd, left, step, model)
        for limit in self.limits:
            limit.used_micro += micro
        return Reservation(step, micro)

    def admit(
        self,
        reservation: Reservation,
        journal: Journal,
        write: Callable[[], None],
        *,
        model: str,
    ) -> None:
        """Write a paid attempt's row (``write``: it carries the reservation) if the attempt
        fits every budget shared with other runs, checked against what the journal holds.

        Inside the journal's exclusive section, each daily budget's spend and open reservations
        (every run's, this one's committed rows included) are read afresh; the row is written
        before the section is left, so another process's check sees it.

        Raises:
            BudgetExceeded: it does not fit a shared budget (nothing is written).
        """
        shared = [limit for limit in self.limits if limit.since is not None]
        if not shared or reservation.micro == 0:
            write()
            return
        with journal.exclusive():
            for limit in shared:
                assert limit.since is not None
                held = to_micro(journal.spent(limit.since, limit.pipeline))
                left = to_micro(limit.limit_usd) - held
                if reservation.micro > left:
                    usd = reservation.micro / MICRO
                    raise _exceeded(limit, usd, left, reservation.step, model)
            write()

    def charge(self, usd: float) -> None:
        """Count spending no reservation held: a job a stopped run left open, cancelled on
        resume, may still be billed (it was accepted before any of this run's reservations)."""
        micro = to_micro(usd)
        for limit in self.limits:
            limit.used_micro += micro
        self.spent_micro += micro

    def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace a reservation by what the attempt actually cost (once)."""
        if reservation.settled:
            return
        reservation.settled = True
        actual = to_micro(actual_usd)
        for limit in self.limits:
            limit.used_micro += actual - reservation.micro
        self.spent_micro += actual


def _exceeded(
    limit: Limit, amount_usd: float, left_micro: int, step: str, model: str
) -> BudgetExceeded:
    return BudgetExceeded(
        f"{model} may cost ${amount_usd:.4f} but only ${max(left_micro, 0) / MICRO:.4f} "
        f"is left of the {limit.name} budget of ${limit.limit_usd:.2f}",
        where=f"step {step}",
        hint=f"raise {limit.name} or choose a cheaper policy (--policy cheapest)",
    )
