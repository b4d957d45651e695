"""Every filter excludes with its stable code and a reason a user can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from podium.plan import Decision, NoModel, Router
from tests.plan.routing_helpers import Loaded, pipeline

HERO = {"id": "hero", "task": "text-to-image", "prompt": {"subject": "a can of soda"}}
SHOT = {"id": "shot", "task": "image-to-video", "inputs": {"image": "${steps.hero.output}"}}
PHOTO = {"photo": {"type": "image"}}


def why(decision: Decision, model: str) -> tuple[str, str]:
    """(code, reason) of an excluded candidate."""
    excluded = decision.candidate(model).excluded
    assert excluded is not None, f"{model} was not excluded"
    return excluded.code, excluded.reason


def step(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``base`` with fields replaced."""
    return {**base, **fields}


@pytest.mark.usefixtures("no_keys")
def test_unavailable_names_the_missing_env_var_provider_or_engine(
    make_router: Callable[..., Router],
) -> None:
    plan = make_router().plan(pipeline(HERO, step(HERO, id="voice", task="text-to-speech")))
    assert why(plan.decisions["hero"], "fal/flux") == ("unavailable", "FAL_KEY is not set")
    assert why(plan.decisions["hero"], "replicate/sdxl") == (
        "unavailable",
        "REPLICATE_API_TOKEN is not set",
    )
    assert why(plan.decisions["hero"], "openai/image") == (
        "unavailable",
        "provider 'openai' is not installed",
    )
    code, reason = why(plan.decisions["voice"], "local/piper")
    assert code == "unavailable"
    assert "no_such_module_for_podium_tests" in reason and "make setup" in reason
    assert plan.decisions["hero"].chosen == "local/studio@1"


@pytest.mark.usefixtures("all_keys")
class TestWithKeys:
    """Filters that have nothing to do with credentials."""

    def test_task(self, make_router: Callable[..., Router]) -> None:
        shot = step(SHOT, route={"pin": "local/studio"})
        with pytest.raises(NoModel) as info:
            make_router().plan(pipeline(HERO, shot))
        studio = next(c for c in info.value.candidates if c.model == "local/studio@1")
        assert studio.excluded is not None
        assert (studio.excluded.code, studio.excluded.reason) == (
            "task",
            "does not do image-to-video (it does text-to-image)",
        )
        assert "hero" in info.value.decided  # the steps before still show their decisions

    def test_outputs_a_later_step_takes(self, make_router: Callable[..., Router]) -> None:
        voice = {"id": "voice", "task": "text-to-speech", "prompt": "Hello there."}
        cut = {
            "id": "cut",
            "task": "compose-video",
            "inputs": {
                "shots": ["${steps.shot.output}"],
                "audio": "${steps.voice.outputs[0]}",
                "subtitles": "${steps.voice.outputs[1]}",
            },
        }
        p = pipeline(HERO, SHOT, voice, cut)
        decision = make_router().decide(p.step("voice"), p)
        assert why(decision, "local/espeak") == (
            "outputs",
            "makes audio only, but ${steps.voice.outputs[1]} takes its subtitles",
        )
        assert decision.candidate("elevenlabs/v2").eligible

    def test_limits_duration(self, make_router: Callable[..., Router]) -> None:
        long = step(SHOT, prompt={"duration_s": 12, "camera": "orbit"})
        d = make_router().plan(pipeline(HERO, long)).decisions["shot"]
        assert why(d, "local/studio-motion") == (
            "limits",
            "duration 12 s is over its 10 s maximum",
        )
        assert why(d, "fal/kling") == ("limits", "duration 12 s is over its 10 s maximum")
        assert d.chosen == "local/kenburns@1"
        short = step(SHOT, params={"duration_s": "${inputs.seconds}"})
        p = pipeline(HERO, short, inputs={"seconds": 2})
        d = make_router().plan(Loaded(p, {"seconds": 2})).decisions["shot"]
        assert why(d, "fal/kling") == ("limits", "duration 2 s is under its 5 s minimum")

    def test_limits_size_fps_aspect_sample_rate_chars(
        self, make_router: Callable[..., Router]
    ) -> None:
        router = make_router()
        wide = step(HERO, params={"width": 1800})
        d = router.plan(pipeline(wide)).decisions["hero"]
        assert why(d, "fal/flux") == ("limits", "width 1800 px is over its 1536 px maximum")
        tall = step(HERO, params={"height": 4000})
        d = router.plan(pipeline(tall)).decisions["hero"]
        assert why(d, "local/studio") == ("limits", "height 4000 px is over its 2048 px maximum")
        cinema = step(HERO, params={"aspect_ratio": "21:9"})
        d = router.plan(pipeline(cinema)).decisions["hero"]
        assert why(d, "fal/flux") == ("limits", "aspect ratio 21:9 is not one of 16:9, 1:1, 9:16")
        fast = step(SHOT, params={"fps": 30, "duration_s": 6})
        d = router.plan(pipeline(HERO, fast)).decisions["shot"]
        assert why(d, "fal/kling") == ("limits", "30 fps is not one of its frame rates (24)")
        hifi = {"id": "voice", "task": "text-to-speech", "prompt": "Hi.", "params": {}}
        hifi["params"] = {"sample_rate": 44100}
        d = router.plan(pipeline(hifi)).decisions["voice"]
        assert why(d, "local/espeak") == ("limits", "sample rate 44100 Hz is not one of 22050")
        speech = {"id": "voice", "task": "text-to-speech", "prompt": {"text": "${inputs.s}"}}
        text = "x" * 6000
        d = router.plan(Loaded(pipeline(speech, inputs={"s": ""}), {"s": text})).decisions["voice"]
        assert why(d, "elevenlabs/v2") == (
            "limits",
            "text is 6,000 characters, over its 5,000 maximum",
        )

    def test_needs_from_route(self, make_router: Callable[..., Router]) -> None:
        seeded = step(HERO, route={"needs": ["seed"]})
        d = make_router().plan(pipeline(seeded)).decisions["hero"]
        assert why(d, "openai/image") == ("needs", "lacks seed: route.needs asks for it")
        speech = {"id": "v", "task": "text-to-speech", "prompt": "Hi.", "route": {}}
        speech["route"] = {"needs": ["streaming"]}
        d = make_router().plan(pipeline(speech)).decisions["v"]
        assert why(d, "local/espeak") == ("needs", "lacks streaming: route.needs asks for it")
        assert d.chosen == "elevenlabs/v2@1"

    def test_needs_reference_image_for_consistency_references(
        self, make_router: Callable[..., Router]
    ) -> None:
        ref = step(HERO, inputs={"reference": "${inputs.logo}"})
        p = pipeline(ref, inputs={"logo": {"type": "image"}})
        d = make_router().plan(Loaded(p, {"logo": "logo.png"})).decisions["hero"]
        assert why(d, "local/studio") == (
            "needs",
            "lacks reference_image: the step passes consistency references",
        )
        assert d.chosen == "fal/flux@1"

    def test_needs_first_last_frame(self, make_router: Callable[..., Router]) -> None:
        framed = step(SHOT, inputs={"image": "${inputs.photo}", "last_frame": "${inputs.end}"})
        p = pipeline(framed, inputs={**PHOTO, "end": {"type": "image"}})
        d = make_router().plan(Loaded(p, {"photo": "a.png", "end": "b.png"})).decisions["shot"]
        assert why(d, "local/kenburns") == (
            "needs",
            "lacks first_last_frame: the step binds last_frame to an image",
        )
        assert d.chosen == "fal/kling@1"

    def test_needs_scene_from_an_input_or_a_non_studio_step(
        self, make_router: Callable[..., Router]
    ) -> None:
        from_input = step(SHOT, inputs={"image": "${inputs.photo}"})
        p = pipeline(from_input, inputs=PHOTO)
        d = make_router().plan(Loaded(p, {"photo": "p.png"})).decisions["shot"]
        assert why(d, "local/studio-motion") == (
            "needs",
            "needs a studio image (needs: scene), but its image is input 'photo'",
        )
        flux_hero = step(HERO, route={"pin": "fal/flux"})
        d = make_router().plan(pipeline(flux_hero, SHOT)).decisions["shot"]
        assert why(d, "local/studio-motion") == (
            "needs",
            "needs a studio image (needs: scene), but its image comes from step 'hero', "
            "which runs fal/flux@1, not a studio engine",
        )
        studio_hero = step(HERO, route={"pin": "local/studio"})
        d = make_router().plan(pipeline(studio_hero, SHOT)).decisions["shot"]
        assert d.candidate("local/studio-motion").eligible

    def test_framings_and_scene_need_a_studio_engine(
        self, make_router: Callable[..., Router]
    ) -> None:
        framing = {"camera": "orbit", "composition": "wide", "perspective": "eye level"}
        video = {
            "id": "shot",
            "task": "text-to-video",
            "prompt": {"subject": "a can", "duration_s": 6, "first_frame": framing},
        }
        d = make_router().plan(pipeline(video)).decisions["shot"]
        code, reason = why(d, "fal/kling")
        assert code == "needs"
        assert reason.startswith("first_frame is a framing {camera, composition, perspective}")
        assert d.chosen == "local/studio-motion@1"
        scene = step(video, prompt={"subject": "a can", "duration_s": 6})
        scene["route"] = {"needs": ["scene"]}
        d = make_router().plan(pipeline(scene)).decisions["shot"]
        assert why(d, "fal/kling") == (
            "needs",
            "route.needs asks for scene, which only studio engines have",
        )

    def test_max_cost_max_latency_min_quality(self, make_router: Callable[..., Router]) -> None:
        cheap = step(HERO, route={"max_cost_usd": 0.02})
        d = make_router().plan(pipeline(cheap), policy="best").decisions["hero"]
        assert why(d, "fal/flux") == ("max_cost", "estimate $0.0300 is over max_cost_usd $0.02")
        quick = step(HERO, route={"max_latency_s": 5})
        d = make_router().plan(pipeline(quick), policy="best").decisions["hero"]
        assert why(d, "fal/flux") == ("max_latency", "p95 6.0 s is over max_latency_s 5 s")
        good = step(HERO, route={"min_quality": 0.7})
        d = make_router().plan(pipeline(good), policy="cheapest").decisions["hero"]
        assert why(d, "local/studio") == ("min_quality", "quality 0.45 is under min_quality 0.7")
        assert d.chosen == "fal/flux@1"

    def test_budget_left_after_earlier_steps(self, make_router: Callable[..., Router]) -> None:
        second = step(HERO, id="packshot")
        plan = make_router().plan(pipeline(HERO, second), policy="best", budget_usd=0.05)
        assert plan.decisions["hero"].chosen == "fal/flux@1"
        d = plan.decisions["packshot"]
        assert why(d, "fal/flux") == ("budget", "estimate $0.0300 is over the $0.0200 budget left")
        assert plan.total_cost_usd <= 0.05


@pytest.mark.usefixtures("no_keys")
def test_a_select_no_scorer_can_run_names_the_scorer(make_router: Callable[..., Router]) -> None:
    hero = step(HERO, variants={"count": 9}, select={"by": "quality", "keep": 2})
    with pytest.raises(NoModel) as info:
        make_router().plan(pipeline(hero))
    assert info.value.step_id == "hero.select"
    reasons = {c.model: c.excluded.reason for c in info.value.candidates if c.excluded}
    assert reasons == {
        "local/quality-score@1": "9 items, over its 8 maximum",
        "replicate/aesthetic@1": "REPLICATE_API_TOKEN is not set",
    }


@pytest.mark.usefixtures("all_keys")
def test_decide_one_step_with_the_models_that_ran_upstream(
    make_router: Callable[..., Router],
) -> None:
    p = pipeline(HERO, SHOT)
    router = make_router()
    after_flux = router.decide(p.step("shot"), p, upstream={"hero": "fal/flux@1"})
    assert why(after_flux, "local/studio-motion")[0] == "needs"
    after_studio = router.decide(p.step("shot"), p, upstream={"hero": "local/studio@1"})
    assert after_studio.candidate("local/studio-motion").eligible
    tight = router.decide(p.step("shot"), p, policy="best", budget_left=0.0)
    assert why(tight, "fal/kling")[0] == "budget"
    assert tight.policy == "best"


def test_a_param_value_the_card_refuses_excludes_that_model(settings: Any) -> None:
    from podium.catalog import Catalog, ModelCard, ParamSpec

    cards = Catalog(
        [
            ModelCard(id="acme/small", tasks=("text-to-image",),
                      params={"width": ParamSpec(type="int", min=8, max=512)}),
            ModelCard(id="acme/big", tasks=("text-to-image",),
                      params={"width": ParamSpec(type="int", min=256, max=4096)}),
        ]
    )  # fmt: skip
    router = Router(cards, lambda card: None, settings)
    plan = router.plan(pipeline(step(HERO, params={"width": 128})))
    assert plan.decisions["hero"].chosen == "acme/small@1"
    assert why(plan.decisions["hero"], "acme/big") == (
        "params",
        "params.width: 128 is below the minimum 256",
    )
    with pytest.raises(NoModel) as info:  # refused by both: nothing can run it
        router.plan(pipeline(step(HERO, params={"width": 4})))
    assert {c.excluded.code for c in info.value.candidates if c.excluded} == {"params"}
