"""Router speed: plan a 50-step pipeline against 200 generated cards.

Workload: 10 product shots, each a ``text-to-image`` step with 4 variants and ``select``
(scored by a ``score`` model), an ``image-to-video`` shot of it, and a ``text`` caption; plus a
script (``text``), a voiceover (``text-to-speech``), music (``text-to-music``), a mix
(``mix-audio``), 15 ``text-to-image`` alternates with route constraints, and the final cut
(``compose-video``) — 50 steps, 10 of which get a scorer decision too. 200 cards are generated
over those 7 tasks and 8 providers with seeded random prices, priors, limits and capabilities;
half the providers need an API key that is set, one needs a key that is not. Every plan is made
by a fresh router (availability checks are not reused between plans), as ``podium plan`` does.

Figures: ``ms_per_step`` (median over repetitions of plan time / 50, no store), and
``ms_per_step_with_stats`` (the same with an in-memory journal of 4,000 finished attempts for
observed figures and a breaker store). Goal: ``ms_per_step`` ≤ 1.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from podium.catalog import Catalog, ModelCard
from podium.plan import Router
from podium.settings import Settings
from podium.spec import Pipeline
from podium.store.memory import InMemoryJournal, InMemoryState
from podium.store.records import AttemptRecord, BreakerState

STEPS = 50
CARDS = 200
REPEAT = 15
TASKS = (
    "text-to-image",
    "image-to-video",
    "text",
    "text-to-speech",
    "text-to-music",
    "mix-audio",
    "compose-video",
    "score",
)
PROVIDERS = ("local", "fal", "replicate", "openai", "elevenlabs", "comfy", "acme", "lab")
UNIT = {
    "text-to-image": "image",
    "image-to-video": "output_second",
    "text-to-speech": "1k_chars",
    "text-to-music": "output_second",
}


def make_cards(rng: random.Random) -> list[ModelCard]:
    """200 cards over the tasks and providers, with seeded random figures."""
    cards = []
    for i in range(CARDS):
        task = TASKS[i % len(TASKS)]
        provider = PROVIDERS[(i // len(TASKS)) % len(PROVIDERS)]
        local = provider == "local"
        key = {"acme": ["ACME_KEY_NOT_SET"]}.get(provider, [] if local else ["BENCH_KEY"])
        p50 = rng.uniform(0.2, 30.0)
        card: dict[str, Any] = {
            "id": f"{provider}/{task}-{i}",
            "version": str(1 + i % 3),
            "tasks": [task],
            "offline": local,
            "credentials": key,
            "capabilities": rng.sample(["seed", "reference_image", "first_last_frame"], 2),
            "limits": {
                "max_duration_s": rng.choice([5, 10, 30, None]),
                "max_width": rng.choice([1024, 2048, None]),
                "aspect_ratios": rng.choice([["16:9", "1:1"], None]),
                "max_items": rng.choice([8, 16, None]),
            },
            "price": {
                "usd": 0.0 if local else round(rng.uniform(0.001, 0.1), 4),
                "unit": "free" if local else UNIT.get(task, "call"),
            },
            "priors": {
                "latency_p50_s": p50,
                "latency_p95_s": p50 * rng.uniform(1.2, 3.0),
                "cold_start_s": rng.choice([0.0, 1.0]),
                "error_rate": rng.uniform(0.0, 0.1),
                "quality": rng.uniform(0.2, 0.95),
            },
        }
        cards.append(ModelCard.model_validate(card))
    return cards


def make_pipeline() -> Pipeline:
    """The 50-step DAG of the docstring."""
    steps: list[dict[str, Any]] = [
        {"id": "script", "task": "text", "prompt": "Meet ${inputs.product}. Taste summer."},
        {"id": "voice", "task": "text-to-speech", "prompt": "${steps.script.output}"},
        {
            "id": "music",
            "task": "text-to-music",
            "prompt": {"genre": "pop", "duration_s": "${steps.voice.output.duration_s}"},
        },
        {
            "id": "mix",
            "task": "mix-audio",
            "inputs": {"voice": "${steps.voice.output}", "music": "${steps.music.output}"},
        },
    ]
    for i in range(10):
        steps.append(
            {
                "id": f"hero{i}",
                "task": "text-to-image",
                "prompt": {"subject": "${inputs.product}", "composition": "close-up"},
                "params": {"aspect_ratio": "16:9"},
                "variants": {"count": 4},
                "select": {"by": "quality", "keep": 1},
            }
        )
        steps.append(
            {
                "id": f"shot{i}",
                "task": "image-to-video",
                "inputs": {"image": f"${{steps.hero{i}.output}}"},
                "prompt": {"camera": "push-in", "duration_s": 6},
            }
        )
        steps.append({"id": f"caption{i}", "task": "text", "prompt": f"Shot {i}"})
    for i in range(15):
        steps.append(
            {
                "id": f"alt{i}",
                "task": "text-to-image",
                "prompt": {"subject": "${inputs.product}"},
                "params": {"width": 1536},
                "route": {"max_cost_usd": 0.05, "needs": ["seed"], "exclude": ["lab"]},
            }
        )
    steps.append(
        {
            "id": "cut",
            "task": "compose-video",
            "inputs": {
                "shots": [f"${{steps.shot{i}.output}}" for i in range(10)],
                "audio": "${steps.mix.output}",
            },
        }
    )
    assert len(steps) == STEPS
    return Pipeline.model_validate({"name": "bench", "inputs": {"product": "Soda"}, "steps": steps})


def check(settings: Settings) -> Callable[[ModelCard], str | None]:
    """What ``Provider.check`` does: every credential must be set."""

    def why(card: ModelCard) -> str | None:
        for env in card.credentials:
            if not settings.secret(env):
                return f"{env} is not set"
        return None

    return why


def stats_store(
    cards: list[ModelCard], rng: random.Random
) -> tuple[InMemoryJournal, InMemoryState]:
    """A journal of 4,000 finished attempts over the cards, and a few open breakers."""
    journal = InMemoryJournal()
    now = time.time()
    for i in range(4000):
        card = cards[rng.randrange(len(cards))]
        ok = rng.random() > 0.05
        journal.put_attempt(
            AttemptRecord(
                attempt_id=f"a{i}",
                run_id="r",
                step_key="s",
                model=card.ref,
                provider=card.provider,
                idempotency_key=f"k{i}",
                status="succeeded" if ok else "failed",
                started_at=now - 1000 + i * 0.1,
                finished_at=now - 999 + i * 0.1,
                latency_s=rng.uniform(0.1, 20.0),
                error_code=None if ok else "transient",
            )
        )
    state = InMemoryState()
    for card in cards[:: len(cards) // 10]:
        state.put_breaker(BreakerState(card.id, "open", 5, now + 600))
    return journal, state


def measure(build: Callable[[], Router], pipeline: Pipeline) -> float:
    """Median milliseconds per step over REPEAT plans, each by a fresh router."""
    for _ in range(3):
        build().plan(pipeline)
    times = []
    for _ in range(REPEAT):
        router = build()
        start = time.perf_counter()
        router.plan(pipeline)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000 / STEPS


def main() -> None:
    """Print the figures; the last line is the JSON summary."""
    os.environ["BENCH_KEY"] = "set"
    rng = random.Random(7)
    settings = Settings(min_samples=5)
    cards = make_cards(rng)
    catalog = Catalog(cards)
    pipeline = make_pipeline()
    journal, state = stats_store(cards, rng)
    bare = measure(lambda: Router(catalog, check(settings), settings), pipeline)
    with_stats = measure(
        lambda: Router(catalog, check(settings), settings, journal=journal, state=state),
        pipeline,
    )
    plan = Router(catalog, check(settings), settings).plan(pipeline)
    print(
        f"plan: {len(plan.decisions)} steps, ${plan.total_cost_usd:.2f}, "
        f"critical path {plan.critical_path_s:.1f} s"
    )
    print(f"{bare:.3f} ms per step; {with_stats:.3f} ms per step with observed stats")
    print(
        json.dumps(
            {
                "bench": "plan",
                "ms_per_step": round(bare, 4),
                "ms_per_step_with_stats": round(with_stats, 4),
                "steps": STEPS,
                "cards": CARDS,
                "scorer_decisions": 10,
                "journal_attempts": 4000,
                "goal_ms_per_step": 1.0,
            }
        )
    )


if __name__ == "__main__":
    main()
