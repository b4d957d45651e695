"""Whatever the pipeline, a plan keeps its promises: the chosen model has the best score, the
chain holds distinct eligible models, totals add up — or the router says which step cannot run."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from podium.catalog import Catalog
from podium.errors import PodiumError
from podium.plan import NoModel, Router
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec import Weights
from tests.plan.routing_helpers import pipeline

TASKS = ["text-to-image", "image-to-video", "text-to-speech", "text", "score"]
POLICIES = ["cheapest", "fastest", "best", "balanced", Weights(cost=1.0, quality=2.0)]


@st.composite
def steps(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Up to 6 steps of random tasks, params, routes and fan-out, each maybe fed by an earlier
    image step."""
    out: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 6))):
        task = draw(st.sampled_from(TASKS))
        step: dict[str, Any] = {"id": f"s{i}", "task": task, "prompt": "a can of soda"}
        images = [s["id"] for s in out if s["task"] == "text-to-image"]
        if task == "image-to-video":
            source = draw(st.sampled_from(images)) if images else None
            step["inputs"] = {"image": f"${{steps.{source}.output}}" if source else "${inputs.p}"}
        if task == "score":
            step["inputs"] = {"items": "${inputs.p}"}
        step["params"] = (
            {}
            if draw(st.booleans())
            else draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "duration_s": st.sampled_from([2, 6, 12]),
                        "width": st.sampled_from([512, 1800, 4000]),
                        "fps": st.sampled_from([24, 30]),
                        "aspect_ratio": st.sampled_from(["16:9", "21:9"]),
                    },
                )
            )
        )
        step["route"] = (
            {}
            if draw(st.integers(0, 2))
            else draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "max_cost_usd": st.sampled_from([0.0, 0.02, 1.0]),
                        "min_quality": st.sampled_from([0.3, 0.7]),
                        "exclude": st.sampled_from([["fal"], ["local"], []]),
                        "needs": st.sampled_from([["seed"], ["streaming"], []]),
                        "fallbacks": st.integers(0, 3),
                    },
                )
            )
        )
        if task == "text-to-image" and draw(st.booleans()):
            step["variants"] = {"count": draw(st.integers(2, 10))}
            step["select"] = {"by": "quality", "keep": 1}
        out.append(step)
    return out


@pytest.mark.usefixtures("all_keys")
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spec=steps(),
    policy=st.sampled_from(POLICIES),
    budget=st.sampled_from([None, 0.05, 10.0]),
)
def test_plan_invariants(
    catalog: Catalog,
    registry: ProviderRegistry,
    settings_: Settings,
    spec: list[dict[str, Any]],
    policy: Any,
    budget: float | None,
) -> None:
    router = Router(catalog, registry.check, settings_)
    p = pipeline(*spec, inputs={"p": {"type": "image"}})
    try:
        plan = router.plan(p, policy=policy, budget_usd=budget)
    except NoModel as exc:
        event("a step no model can run")
        assert exc.candidates == () or all(c.excluded for c in exc.candidates)
        assert exc.one_line().startswith(f"step {exc.step_id}: no model can run this step")
        return
    except PodiumError as exc:  # a malformed policy cannot be drawn: nothing else may fail
        pytest.fail(f"unexpected error: {exc}")
    event("planned")
    assert list(plan.decisions) == [s["id"] for s in spec]
    total = 0.0
    for step in spec:
        decision = plan.decisions[step["id"]]
        for d in filter(None, (decision, decision.scorer)):
            eligible = [c for c in d.candidates if c.excluded is None]
            assert d.chosen == eligible[0].model
            assert all((c.score or 0) <= (eligible[0].score or 0) for c in eligible)
            assert len(set(d.chain)) == len(d.chain)
            assert set(d.chain) <= {c.model for c in eligible}
            assert len(d.fallbacks) <= step.get("route", {}).get("fallbacks", 2)
            total += d.estimate.cost_usd
    assert plan.total_cost_usd == pytest.approx(total)
    if budget is not None:
        assert plan.total_cost_usd <= budget + 1e-9
    assert (
        plan.critical_path_s
        <= sum(
            d.estimate.latency_s + (d.scorer.estimate.latency_s if d.scorer else 0)
            for d in plan.decisions.values()
        )
        + 1e-9
    )


@pytest.fixture
def settings_(settings: Settings) -> Settings:
    """The isolated settings under a name that does not shadow hypothesis' ``settings``."""
    return settings
