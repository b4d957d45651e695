"""The router on a test catalog: the best score wins, policies differ, fallbacks spread over
providers, pins/locks/excludes are honoured, and estimates follow the cards' prices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podium.catalog import Catalog
from podium.errors import PodiumError
from podium.plan import NoModel, Router, parse_policy
from podium.spec import Weights
from tests.plan.routing_helpers import Loaded, pipeline

pytestmark = pytest.mark.usefixtures("all_keys")

HERO = {"id": "hero", "task": "text-to-image", "prompt": {"subject": "a can of soda"}}


def test_chosen_is_the_best_score_and_candidates_are_ranked(
    make_router: Callable[..., Router],
) -> None:
    for policy in ("cheapest", "fastest", "best", "balanced"):
        decision = make_router().plan(pipeline(HERO), policy=policy).decisions["hero"]
        scored = [c for c in decision.candidates if c.score is not None]
        assert decision.chosen == max(scored, key=lambda c: c.score or 0.0).model
        values = [c.score or 0.0 for c in scored]
        assert values == sorted(values, reverse=True)
        assert decision.chain[0] == decision.chosen


def test_cheapest_and_best_choose_differently(
    make_router: Callable[..., Router], catalog: Catalog
) -> None:
    router = make_router()
    cheap = router.plan(pipeline(HERO), policy="cheapest").decisions["hero"]
    best = router.plan(pipeline(HERO), policy="best").decisions["hero"]
    assert cheap.chosen != best.chosen
    eligible = [catalog.get(c.model) for c in cheap.candidates if c.eligible]
    assert catalog.get(cheap.chosen).price.usd == min(c.price.usd for c in eligible)
    assert catalog.get(best.chosen).priors.quality == max(c.priors.quality for c in eligible)


def test_fastest_picks_the_lowest_p95(make_router: Callable[..., Router]) -> None:
    decision = make_router().plan(pipeline(HERO), policy="fastest").decisions["hero"]
    eligible = [c for c in decision.candidates if c.eligible]
    assert decision.candidate(decision.chosen).latency_s == min(c.latency_s for c in eligible)


def test_explicit_weights_and_step_policy(make_router: Callable[..., Router]) -> None:
    quality_only = Weights(quality=1.0)
    decision = make_router().plan(pipeline(HERO), policy=quality_only).decisions["hero"]
    assert decision.policy == "weights(quality=1)"
    for cand in decision.candidates:
        if cand.eligible:
            assert cand.score == pytest.approx(cand.quality)
    own = {**HERO, "route": {"policy": "cheapest"}}
    plan = make_router().plan(pipeline(own), policy="best")
    assert plan.policy == "best"
    assert plan.decisions["hero"].policy == "cheapest"


def test_fallbacks_prefer_other_providers(make_router: Callable[..., Router]) -> None:
    step = {**HERO, "route": {"fallbacks": 2}}
    decision = make_router().plan(pipeline(step), policy="best").decisions["hero"]
    providers = [m.split("/")[0] for m in decision.chain]
    assert len(decision.chain) == 3
    assert len(set(providers)) == 3
    none = {**HERO, "route": {"fallbacks": 0}}
    assert make_router().plan(pipeline(none)).decisions["hero"].fallbacks == ()


def test_same_provider_fills_the_chain_when_no_other_is_left(
    make_router: Callable[..., Router],
) -> None:
    step = {**HERO, "route": {"fallbacks": 3, "exclude": ["replicate"]}}
    decision = make_router().plan(pipeline(step), policy="best").decisions["hero"]
    eligible = {c.model for c in decision.candidates if c.eligible}
    assert set(decision.chain) == eligible
    assert len(decision.chain) == len(set(decision.chain))


def test_pin_runs_exactly_that_model(make_router: Callable[..., Router]) -> None:
    step = {**HERO, "route": {"pin": "replicate/sdxl"}}
    decision = make_router().plan(pipeline(step), policy="best").decisions["hero"]
    assert decision.chain == ("replicate/sdxl@2",)
    others = [c for c in decision.candidates if c.model != "replicate/sdxl@2"]
    assert all(c.excluded and c.excluded.code == "pin" for c in others)
    assert "route.pin pins replicate/sdxl" in others[0].excluded.reason  # type: ignore[union-attr]


def test_pin_to_a_wrong_version_or_unknown_model(make_router: Callable[..., Router]) -> None:
    step = {**HERO, "route": {"pin": "replicate/sdxl@9"}}
    with pytest.raises(NoModel) as info:
        make_router().plan(pipeline(step))
    pinned = next(c for c in info.value.candidates if c.model == "replicate/sdxl@2")
    assert pinned.excluded is not None
    assert pinned.excluded.reason.startswith("route.pin pins version 9 but the catalog has")
    assert "step hero" in str(info.value)
    unknown = {**HERO, "route": {"pin": "replicate/sdx"}}
    with pytest.raises(PodiumError, match="did you mean replicate/sdxl"):
        make_router().plan(pipeline(unknown))


def test_lock_pins_the_step_over_route_pin(make_router: Callable[..., Router]) -> None:
    step = {**HERO, "route": {"pin": "fal/flux"}}
    plan = make_router().plan(pipeline(step), lock={"hero": "local/studio@1"})
    decision = plan.decisions["hero"]
    assert decision.chain == ("local/studio@1",)
    flux = decision.candidate("fal/flux")
    assert flux.excluded is not None
    assert (flux.excluded.code, flux.excluded.reason) == (
        "lock",
        "the lock file pins local/studio@1",
    )
    with pytest.raises(NoModel) as info:
        make_router().plan(pipeline(HERO), lock={"hero": "local/studio@0"})
    studio = next(c for c in info.value.candidates if c.model == "local/studio@1")
    assert studio.excluded is not None
    assert "podium lock --upgrade" in studio.excluded.reason
    with pytest.raises(PodiumError) as unknown:
        make_router().plan(pipeline(HERO), lock={"hero": "nope/model@1"})
    assert unknown.value.where == "step hero"
    assert unknown.value.message == "the lock file pins unknown model 'nope/model@1'"
    assert "podium lock --upgrade hero" in (unknown.value.hint or "")


def test_exclude_a_model_or_a_whole_provider(make_router: Callable[..., Router]) -> None:
    step = {**HERO, "route": {"exclude": ["fal", "openai/image"]}}
    decision = make_router().plan(pipeline(step), policy="best").decisions["hero"]
    reasons = {c.model: c.excluded for c in decision.candidates if c.excluded}
    assert reasons["fal/flux@1"].reason == "route.exclude lists fal"  # type: ignore[union-attr]
    assert reasons["openai/image@1"].code == "exclude"  # type: ignore[union-attr]
    assert "fal" not in decision.chosen and "openai" not in decision.chosen


def test_estimates_follow_prices_and_fan_out(
    make_router: Callable[..., Router], catalog: Catalog
) -> None:
    hero = {**HERO, "variants": {"count": 3, "vary": {"style": ["a", "b"]}}}
    shot = {
        "id": "shot",
        "task": "image-to-video",
        "inputs": {"image": "${inputs.photo}"},
        "prompt": {"duration_s": 6},
    }
    voice = {"id": "voice", "task": "text-to-speech", "prompt": {"text": "${inputs.script}"}}
    script = "Meet Lemon soda. " * 20
    loaded = Loaded(
        pipeline(hero, shot, voice, inputs={"photo": {"type": "image"}, "script": ""}),
        {"photo": "p.png", "script": script},
    )
    plan = make_router().plan(loaded, policy="best")
    flux = plan.decisions["hero"].candidate("fal/flux")
    assert flux.cost_usd == pytest.approx(catalog.get("fal/flux").price.usd * 6)
    kling = plan.decisions["shot"].candidate("fal/kling")
    assert kling.cost_usd == pytest.approx(catalog.get("fal/kling").price.usd * 6)
    eleven = plan.decisions["voice"].candidate("elevenlabs/v2")
    assert eleven.cost_usd == pytest.approx(0.3 * len(script) / 1000)
    total = sum(d.estimate.cost_usd for d in plan.decisions.values())
    assert plan.total_cost_usd == pytest.approx(total)


def test_critical_path_is_the_slowest_chain(make_router: Callable[..., Router]) -> None:
    shot = {"id": "shot", "task": "image-to-video", "inputs": {"image": "${steps.hero.output}"}}
    script = {"id": "script", "task": "text", "prompt": "Hello"}
    voice = {"id": "voice", "task": "text-to-speech", "prompt": "${steps.script.output}"}
    plan = make_router().plan(pipeline(HERO, shot, script, voice), policy="best")
    lat = {k: d.estimate.latency_s for k, d in plan.decisions.items()}
    expected = max(lat["hero"] + lat["shot"], lat["script"] + lat["voice"])
    assert plan.critical_path_s == pytest.approx(expected)
    assert plan.critical_path_s < sum(lat.values())


def test_ranks_count_the_work_still_ahead_of_each_step(
    make_router: Callable[..., Router],
) -> None:
    shot = {"id": "shot", "task": "image-to-video", "inputs": {"image": "${steps.hero.output}"}}
    script = {"id": "script", "task": "text", "prompt": "Hello"}
    voice = {"id": "voice", "task": "text-to-speech", "prompt": "${steps.script.output}"}
    plan = make_router().plan(pipeline(HERO, shot, script, voice), policy="best")
    lat = {k: d.estimate.latency_s for k, d in plan.decisions.items()}
    assert plan.ranks["shot"] == pytest.approx(lat["shot"])
    assert plan.ranks["hero"] == pytest.approx(lat["hero"] + lat["shot"])
    assert plan.ranks["script"] == pytest.approx(lat["script"] + lat["voice"])
    # the first step of the slowest chain ranks as the whole critical path
    assert max(plan.ranks.values()) == pytest.approx(plan.critical_path_s)


def test_select_gets_its_own_scorer_decision(make_router: Callable[..., Router]) -> None:
    hero = {**HERO, "variants": {"count": 4}, "select": {"by": "quality", "keep": 1}}
    plan = make_router().plan(pipeline(hero), policy="cheapest")
    scorer = plan.decisions["hero"].scorer
    assert scorer is not None
    assert scorer.task == "score"
    assert scorer.step_id == "hero.select"
    assert scorer.chosen.startswith("local/quality-score")
    body = plan.to_json()["steps"][0]
    assert body["select"]["chosen"] == scorer.chosen
    too_many = {**hero, "variants": {"count": 9}}
    decision = make_router().plan(pipeline(too_many), policy="cheapest").decisions["hero"]
    assert decision.scorer is not None
    local = decision.scorer.candidate("local/quality-score")
    assert local.excluded is not None
    assert local.excluded.reason == "9 items, over its 8 maximum"


def test_plan_json_has_design_shape(make_router: Callable[..., Router]) -> None:
    doc = make_router().plan(pipeline(HERO)).to_json()
    assert set(doc) == {"pipeline", "policy", "steps", "total"}
    assert set(doc["total"]) == {"cost_usd", "critical_path_s"}
    step = doc["steps"][0]
    assert set(step) == {"id", "task", "chosen", "fallbacks", "candidates", "estimate"}
    assert set(step["estimate"]) == {"cost_usd", "latency_s"}
    for cand in step["candidates"]:
        assert set(cand) in ({"model", "score"}, {"model", "excluded"})
        if "excluded" in cand:
            assert set(cand["excluded"]) == {"code", "reason"}


def test_parse_policy() -> None:
    assert parse_policy("cheapest") == "cheapest"
    assert parse_policy("cost=1, quality=2") == Weights(cost=1, quality=2)
    for bad in ("cheap", "speed=1", "cost=x", "cost=0", "cost=nan", "cost=1e999", "cost=-1"):
        with pytest.raises(PodiumError):
            parse_policy(bad)


def test_weights_in_a_spec_are_checked_where_they_are_written(tmp_path: Path) -> None:
    from podium.errors import SpecError
    from podium.spec.loader import load_pipeline

    spec = tmp_path / "w.yaml"
    spec.write_text(
        "name: w\npolicy: {cost: -1, quality: .nan}\nsteps:\n  - {id: a, task: text, prompt: x}\n"
    )
    with pytest.raises(SpecError) as info:
        load_pipeline(spec)
    lines = [p.one_line() for p in info.value.problems]
    assert any(line.startswith(f"{spec}:2:16") and "policy.cost" in line for line in lines)
    assert any(line.startswith(f"{spec}:2:29") and "finite" in line for line in lines)
