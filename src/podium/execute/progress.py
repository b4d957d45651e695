"""The live progress view of ``podium run``: a line per step (model, state, elapsed, cost).

It listens to the runner's :class:`RunEvent` and redraws a rich table on stderr a few times a
second; steps that report progress get a bar. Tests render it into an injected console.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from podium.execute.events import RunEvent

STYLES = {
    "pending": "dim",
    "running": "cyan",
    "retrying": "yellow",
    "succeeded": "green",
    "cached": "green",
    "failed": "red",
    "skipped": "dim",
    "cancelled": "magenta",
}


@dataclass
class StepLine:
    """What the view shows for one step."""

    step: str
    model: str = ""
    state: str = "pending"
    started: float | None = None
    ended: float | None = None
    cost_usd: float = 0.0
    units: int = 1
    units_done: int = 0
    progress: float | None = None
    note: str = ""
    keys: set[str] = field(default_factory=set)

    def elapsed(self, now: float) -> str:
        """Seconds since the step started (frozen once it ended)."""
        if self.started is None:
            return ""
        return f"{(self.ended or now) - self.started:.1f}s"


class ProgressView:
    """A live table of steps, fed by runner events.

    Args:
        steps: the pipeline's step ids in order.
        console: where to draw (default: stderr).
    """

    def __init__(self, steps: list[str], console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.lines = {s: StepLine(s) for s in steps}
        self.run_id = ""
        self.status = "starting"
        self._live: Live | None = None

    def __call__(self, event: RunEvent) -> None:
        """Apply one event."""
        if event.kind == "run":
            self.run_id = event.key
            self.status = event.status
            if self._live is not None and not self._live.is_started:
                self._live.start()  # the run exists: a refusal before it draws no table
            return
        line = self.lines.get(event.step_id)
        if line is None:
            return
        now = event.at
        if event.model:
            line.model = event.model
        if event.kind == "step" and event.key == event.step_id:
            line.state = event.status
            if event.status == "running":
                line.started = line.started or now
                line.units = int(event.data.get("units", 1))
            elif event.status != "pending":
                line.ended = now
                line.started = line.started or now
                line.units_done = line.units
                line.cost_usd = max(line.cost_usd, event.cost_usd)
                line.note = event.message or ("restored" if event.data.get("restored") else "")
        elif event.kind == "step" and event.status in ("succeeded", "cached"):
            line.units_done += 1
        elif event.kind == "attempt":
            if event.status == "retrying":
                line.note = f"retrying: {event.message or ''}"[:60]
            elif event.data.get("hedge"):
                line.note = f"hedging on {event.model}"
        elif event.kind == "progress" and event.progress is not None:
            line.progress = event.progress

    def render(self) -> RenderableType:
        """The current table."""
        now = time.time()
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for col in ("step", "model", "state", "elapsed", "cost", ""):
            table.add_column(col)
        for line in self.lines.values():
            state = Text(line.state, style=STYLES.get(line.state, ""))
            if line.units > 1 and line.state == "running":
                state.append(f" {line.units_done}/{line.units}")
            extra: RenderableType = Text(line.note, style="dim")
            if line.state == "running" and line.progress is not None:
                extra = ProgressBar(total=1.0, completed=line.progress, width=20)
            table.add_row(
                line.step,
                line.model,
                state,
                line.elapsed(now),
                f"${line.cost_usd:.4f}" if line.cost_usd else "",
                extra,
            )
        head = Text(f"run {self.run_id}  {self.status}", style="bold")
        return Group(head, table)

    def __enter__(self) -> ProgressView:
        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=8,
            transient=False,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        live, self._live = self._live, None
        if live is None or not live.is_started:  # the run was refused before it began
            return
        live.refresh()
        live.stop()
        if not self.console.is_terminal:
            self.console.line()  # rich leaves the last frame unterminated off a terminal
