"""What the runner tells its listeners (the progress view, tests, the future API) as it works."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["run", "step", "attempt", "progress"]


@dataclass(frozen=True)
class RunEvent:
    """One change of state.

    Attributes:
        kind: ``run``, ``step`` (a step or one of its units), ``attempt`` or ``progress``.
        key: the unit key (``step`` or ``step[i]``); the run id for ``run`` events.
        status: the new state (``running``, ``succeeded``, ``failed``, ``cached``,
            ``retrying``, ``skipped`` ...).
        step_id: the step.
        model: ``provider/model@version`` when known.
        cost_usd: money spent so far on this key.
        progress: 0..1 when the provider reports it.
        message: an error line or a log line.
        at: unix time.
        data: anything else (attempt number, hedge, request id).
    """

    kind: EventKind
    key: str
    status: str
    step_id: str = ""
    model: str | None = None
    cost_usd: float = 0.0
    progress: float | None = None
    message: str | None = None
    at: float = field(default_factory=time.time)
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[RunEvent], None]


def no_listener(event: RunEvent) -> None:
    """A listener that drops events."""
