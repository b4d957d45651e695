"""Circuit breakers: per model everywhere, and per provider for remote providers.

A breaker opens after ``settings.breaker_failures`` consecutive failures, or when the error rate
over the last ``settings.breaker_window`` outcomes exceeds ``settings.breaker_error_rate`` (with
at least half a window of samples), or at once on :class:`QuotaExceeded`. After
``breaker_cooldown_s`` it lets one probe through (half-open), taken in the store so that one
process probes while others wait; the probe's outcome closes or re-opens it. States persist
through the :class:`StateStore`, so ``podium health`` and the router see them and the next
process starts where this one stopped.
"""

from __future__ import annotations

import time
from dataclasses import replace

from podium.errors import PodiumError, QuotaExceeded
from podium.settings import Settings
from podium.store.base import StateStore
from podium.store.records import BreakerState

# Outcomes that say nothing about a model's health: the user's request, our budget, our cancel,
# and a content refusal (the model works; it declined this prompt).
NOT_HEALTH = frozenset({"invalid_input", "budget_exceeded", "cancelled", "refused"})


def provider_key(provider: str) -> str:
    """The breaker key of a whole provider."""
    return f"provider:{provider}"


def open_until_text(until: float) -> str:
    """``circuit open until 06:12:03`` (local time)."""
    return "circuit open until " + time.strftime("%H:%M:%S", time.localtime(until))


class Breakers:
    """The breakers of one process, cached in memory and written through to ``state``.

    Args:
        state: where breaker states persist.
        settings: thresholds and cooldown.
    """

    def __init__(self, state: StateStore, settings: Settings) -> None:
        self.state = state
        self.settings = settings
        self._cache: dict[str, BreakerState] = {}
        self._probing: set[str] = set()

    def refresh(self) -> None:
        """Read every breaker from the store again when next asked: a long-lived runner then
        sees, at its next run, what other processes opened or closed meanwhile (probes this
        process has running stay its own)."""
        self._cache.clear()

    def get(self, key: str) -> BreakerState:
        """The current state of a breaker."""
        if key not in self._cache:
            self._cache[key] = self.state.breaker(key)
        return self._cache[key]

    def blocked(self, keys: list[str], now: float | None = None) -> str | None:
        """Why an attempt guarded by ``keys`` may not start now, or ``None``.

        An open breaker past its cooldown lets exactly one probe through (half-open).
        """
        now = time.time() if now is None else now
        for key in keys:
            st = self.get(key)
            if st.state == "closed":
                continue
            if key in self._probing:
                return f"{key}: circuit half-open, a probe is running"
            if st.opened_until is not None and now < st.opened_until:
                if st.state == "open":
                    return f"{key}: {open_until_text(st.opened_until)}"
                return f"{key}: circuit half-open, another process's probe is running"
        for key in keys:
            st = self.get(key)
            if st.state == "closed":
                continue
            # the probe is taken in the store, so one process probes while the others wait;
            # its lease runs out after a cooldown, should that process die mid-probe
            lease = now + self.settings.breaker_cooldown_s
            if not self.state.take_probe(key, now, lease):
                self._cache.pop(key, None)  # another process took it: read it again next time
                return f"{key}: circuit half-open, another process's probe is running"
            self._probing.add(key)
            self._cache[key] = replace(st, state="half_open", opened_until=lease)
        return None

    def record(self, keys: list[str], error: PodiumError | None) -> None:
        """Record an attempt's outcome on every breaker guarding it."""
        if error is not None and error.code in NOT_HEALTH:
            for key in keys:
                self._probing.discard(key)
            return
        for key in keys:
            self._record(key, error)

    def _record(self, key: str, error: PodiumError | None) -> None:
        st = self.get(key)
        ok = error is None
        window = max(1, self.settings.breaker_window)
        recent = (*st.recent, ok)[-window:]
        probing = key in self._probing
        self._probing.discard(key)
        if ok:
            changed = st.state != "closed" or st.consecutive_failures or not all(st.recent)
            new = BreakerState(key, "closed", 0, None, recent)
            if changed:
                self._put(new)
            else:
                self._cache[key] = new  # nothing worth a write: all-success history
            return
        failures = st.consecutive_failures + 1
        errors = recent.count(False)
        rate_trip = (
            len(recent) >= max(2, window // 2)
            and errors / len(recent) > self.settings.breaker_error_rate
        )
        trip = (
            probing
            or isinstance(error, QuotaExceeded)
            or failures >= self.settings.breaker_failures
            or rate_trip
        )
        if trip:
            until = time.time() + self.settings.breaker_cooldown_s
            self._put(BreakerState(key, "open", failures, until, recent))
        else:
            self._put(BreakerState(key, st.state, failures, st.opened_until, recent))

    def _put(self, st: BreakerState) -> None:
        self._cache[st.key] = st
        self.state.put_breaker(st)
