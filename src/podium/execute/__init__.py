"""The runner: schedules a plan on an executor, runs attempts, journals every state change.

``Runner(settings, catalog, registry, router, journal=, artifacts=, cache=, state=)`` then
``await runner.run(loaded)`` returns a :class:`RunOutcome`; ``local_runner(settings, catalog,
store)`` wires one on the local executor with its providers and router. See docs/running.md.
"""

from podium.execute.events import RunEvent
from podium.execute.executor import AttemptHandle, Executor, LocalExecutor
from podium.execute.job import RunOutput
from podium.execute.runner import Runner, RunOutcome, local_runner

__all__ = [
    "AttemptHandle",
    "Executor",
    "LocalExecutor",
    "RunEvent",
    "RunOutcome",
    "RunOutput",
    "Runner",
    "local_runner",
]
