"""What the router knows about the world outside the spec: can a model run here, is its
circuit open, and how fast and reliable has it really been.

Observed figures from the journal replace a card's latency and error priors once the model has
``settings.min_samples`` finished attempts; until then the priors stand and the observed
figures are only shown. Answers are memoised for one planning pass (:meth:`World.start`);
whether a card can run here at all is memoised for the router's lifetime, since keys and
installed engines do not change under a running process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from podium.catalog.card import ModelCard
from podium.plan.decision import Exclusion
from podium.settings import Settings
from podium.store.base import Journal, StateStore


@dataclass(frozen=True, slots=True)
class Figures:
    """The latency and error figures the router scores a model by.

    Attributes:
        p50_s: median latency of one call.
        p95_s: p95 latency of one call.
        error_rate: share of failed calls.
        prior: the card's priors.
        observed: the journal's figures with ``samples`` and ``used``, or ``None``.
    """

    p50_s: float
    p95_s: float
    error_rate: float
    prior: Mapping[str, float]
    observed: Mapping[str, Any] | None


class World:
    """Availability, circuit breakers and observed statistics, as the router sees them.

    Args:
        check: why a card cannot run here, or ``None``.
        settings: ``min_samples`` is read from it.
        journal: the ledger to read observed figures from.
        state: the circuit-breaker states.
        clock: the current unix time.
    """

    def __init__(
        self,
        check: Callable[[ModelCard], str | None],
        settings: Settings,
        *,
        journal: Journal | None = None,
        state: StateStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._check = check
        self.settings = settings
        self.journal = journal
        self.state = state
        self.clock = clock
        self._available: dict[str, str | None] = {}
        self._priors: dict[str, Figures] = {}
        self._figures: dict[str, Figures] = {}
        self._breakers: dict[str, Exclusion | None] = {}
        self._now = clock()

    def start(self) -> None:
        """Begin a planning pass: forget observed figures and breaker states read before."""
        self._figures.clear()
        self._breakers.clear()
        self._now = self.clock()

    def unavailable(self, card: ModelCard) -> Exclusion | None:
        """``unavailable`` (no key, engine not installed, unknown provider), else ``None``."""
        if card.ref not in self._available:
            self._available[card.ref] = self._check(card)
        reason = self._available[card.ref]
        return Exclusion("unavailable", reason) if reason else None

    def breaker(self, card: ModelCard) -> Exclusion | None:
        """``circuit_open`` while the model's or its provider's breaker is open."""
        if self.state is None:
            return None
        if card.ref not in self._breakers:
            found = None
            for key, label in (
                (card.id, ""),
                (card.ref, ""),
                (f"provider:{card.provider}", f"provider {card.provider}: "),
            ):
                st = self.state.breaker(key)
                until_s = st.opened_until
                if st.state == "open" and until_s is not None and until_s > self._now:
                    until = time.strftime("%H:%M:%S", time.localtime(until_s))
                    found = Exclusion("circuit_open", f"{label}circuit open until {until}")
                    break
            self._breakers[card.ref] = found
        return self._breakers[card.ref]

    def priors(self, card: ModelCard) -> Figures:
        """The card's own latency and error figures."""
        known = self._priors.get(card.ref)
        if known is not None:
            return known
        pri = card.priors
        prior = {
            "latency_p50_s": pri.latency_p50_s,
            "latency_p95_s": pri.latency_p95_s,
            "error_rate": pri.error_rate,
            "quality": pri.quality,
        }
        fig = Figures(pri.latency_p50_s, pri.latency_p95_s, pri.error_rate, prior, None)
        self._priors[card.ref] = fig
        return fig

    def figures(self, card: ModelCard) -> Figures:
        """Latency and error figures: observed once there are enough samples, else priors."""
        known = self._figures.get(card.ref)
        if known is not None:
            return known
        fig = self.priors(card)
        pri, prior = card.priors, fig.prior
        if self.journal is not None:
            stats = self.journal.observed(card.ref)
            if stats.samples > 0:
                used = stats.samples >= self.settings.min_samples
                observed = {
                    "samples": stats.samples,
                    "latency_p50_s": stats.latency_p50_s,
                    "latency_p95_s": stats.latency_p95_s,
                    "error_rate": stats.error_rate,
                    "used": used,
                    "min_samples": self.settings.min_samples,
                }
                fig = Figures(
                    _pick(used, stats.latency_p50_s, pri.latency_p50_s),
                    _pick(used, stats.latency_p95_s, pri.latency_p95_s),
                    _pick(used, stats.error_rate, pri.error_rate),
                    prior,
                    observed,
                )
        self._figures[card.ref] = fig
        return fig


def _pick(used: bool, observed: float | None, prior: float) -> float:
    return observed if used and observed is not None else prior
