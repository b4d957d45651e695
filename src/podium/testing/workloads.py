"""Workloads for benches and tests: "the DAG" of issue 3 and a runner wired to the fake provider.

The DAG is 50 ``text`` steps on ``fake/text-a`` in 7 levels (widths 8, 8, 8, 8, 8, 6, 4: at
least 8 wide and 7 deep); every step after the first level references one or two steps of the
level before. Latencies are drawn per step from a range with a fixed seed, so the critical path
is known exactly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from podium.catalog.card import ModelCard
from podium.catalog.catalog import load_catalog
from podium.execute import LocalExecutor, Runner, local_runner
from podium.providers.base import Provider, Request, ignore_events
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task
from podium.store.open import Store
from podium.testing import CARDS

WIDTHS = (8, 8, 8, 8, 8, 6, 4)


def in_memory_dir() -> str | None:
    """A RAM-backed folder (Linux's ``/dev/shm``, a tmpfs) for a bench's second store, where
    creating a file usually costs far less than on disk; ``None`` where there is none."""
    return "/dev/shm" if Path("/dev/shm").is_dir() else None


@dataclass(frozen=True)
class Dag:
    """A generated pipeline and what is known about it.

    Attributes:
        text: the spec (YAML).
        latency_s: step id -> its fixed latency.
        deps: step id -> the steps it references.
    """

    text: str
    latency_s: Mapping[str, float]
    deps: Mapping[str, tuple[str, ...]]

    @property
    def critical_path_s(self) -> float:
        """The longest chain of dependent latencies."""
        finish: dict[str, float] = {}
        for step in self.latency_s:  # written in dependency order
            start = max((finish[d] for d in self.deps[step]), default=0.0)
            finish[step] = start + self.latency_s[step]
        return max(finish.values())


def the_dag(
    name: str = "dag",
    *,
    latency: tuple[float, float] = (0.0, 0.0),
    seed: int = 1,
    params: str = "",
    widths: tuple[int, ...] = WIDTHS,
    cache: bool = True,
    route: str = "{pin: fake/text-a}",
) -> Dag:
    """The DAG of issue 3's benchmarks.

    Args:
        name: pipeline name.
        latency: per-step latency range in seconds (uniform, fixed seed).
        seed: the generator's seed.
        params: extra step params, YAML flow-mapping items (``fail_rate: 0.3``).
        widths: steps per level.
        cache: the steps' ``cache`` flag.
        route: the steps' route (default: pinned to ``fake/text-a``, no fallback).
    """
    rng = random.Random(seed)
    levels: list[list[str]] = []
    latencies: dict[str, float] = {}
    deps: dict[str, tuple[str, ...]] = {}
    lines = [f"name: {name}", "steps:"]
    n = 0
    for width in widths:
        level = []
        for _ in range(width):
            sid = f"s{n:02d}"
            n += 1
            before = levels[-1] if levels else []
            picked = tuple(sorted(rng.sample(before, min(len(before), rng.choice((1, 2))))))
            lat = round(rng.uniform(*latency), 3)
            refs = " ".join(f"${{steps.{d}.output}}" for d in picked)
            extra = f", {params}" if params else ""
            lines.append(
                f'  - {{id: {sid}, task: text, prompt: "{sid} {refs}", '
                f"params: {{latency_s: {lat}{extra}}}, route: {route}, "
                f"cache: {str(cache).lower()}}}"
            )
            latencies[sid] = lat
            deps[sid] = picked
            level.append(sid)
        levels.append(level)
    return Dag("\n".join(lines) + "\n", latencies, deps)


@dataclass
class Bench:
    """A runner over the fake provider, and what to close."""

    runner: Runner
    registry: ProviderRegistry
    executor: LocalExecutor

    async def close(self) -> None:
        """Close providers and the worker pool."""
        await self.registry.aclose()
        await self.executor.shutdown()


def testing_providers() -> dict[str, type[Provider]]:
    """The providers a hermetic test needs: ``local``, ``fake`` and ``fake-remote``.

    Passing them explicitly keeps a test independent of other plug-ins' import health.
    """
    from podium.providers.local import LocalProvider
    from podium.testing.fake import FakeProvider
    from podium.testing.fake_remote_provider import FakeRemoteProvider

    return {"local": LocalProvider, "fake": FakeProvider, "fake-remote": FakeRemoteProvider}


def fake_runner(settings: Settings, store: Store, *, extra_cards: tuple[Path, ...] = ()) -> Bench:
    """A runner on ``store`` whose catalog is the testing providers' cards (plus ``extra``)."""
    catalog = load_catalog([CARDS, *extra_cards], shipped=False)
    return Bench(*local_runner(settings, catalog, store, classes=testing_providers()))


async def bare_text_call(
    provider: Provider,
    card: ModelCard,
    step_id: str,
    *,
    latency_s: float,
    seed: int,
    work_dir: Path,
    key: str,
) -> None:
    """One ``text`` call on ``provider`` without Podium: submit, then wait for its output in
    ``work_dir`` (the benches' bare-asyncio baselines)."""
    request = Request(
        step_id=step_id,
        task=Task.TEXT,
        card=card,
        prompt=step_id,
        prompt_text=step_id,
        inputs={},
        params={"latency_s": latency_s},
        seed=seed,
        outputs=(ArtifactType.TEXT,),
        work_dir=work_dir,
        idempotency_key=key,
    )
    await provider.wait(await provider.submit(request, ignore_events), ignore_events)
