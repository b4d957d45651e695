"""The reference language: parsing, resolving, dependencies and the step graph."""

from __future__ import annotations

from typing import Any

import pytest

from podium.spec import Pipeline, Step
from podium.spec.references import (
    BadRef,
    Ref,
    find_cycle,
    find_refs,
    levels,
    parse_ref,
    resolve,
    step_deps,
    topo_order,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${inputs.product}", Ref("${inputs.product}", "inputs", "product")),
        ("${steps.hero.output}", Ref("${steps.hero.output}", "steps", "hero", "output")),
        ("${steps.hero.outputs}", Ref("${steps.hero.outputs}", "steps", "hero", "outputs")),
        ("${steps.v.outputs[1]}", Ref("${steps.v.outputs[1]}", "steps", "v", "outputs", 1)),
        (
            "${steps.v.output.duration_s}",
            Ref("${steps.v.output.duration_s}", "steps", "v", "output", None, "duration_s"),
        ),
        (
            "${steps.v.outputs[0].fps}",
            Ref("${steps.v.outputs[0].fps}", "steps", "v", "outputs", 0, "fps"),
        ),
        ("${item}", Ref("${item}", "item")),
    ],
)
def test_every_form_parses(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("${steps.hero}", "needs `.output` or `.outputs`"),
        ("${steps.}", "no step named"),
        ("${steps.hero.output[0]}", "only `outputs` takes an index"),
        ("${steps.hero.output.colour}", "unknown metadata field 'colour'"),
        ("${steps.hero.outputs.width}", "metadata needs one artifact"),
        ("${inputs.a * 2}", "no arithmetic"),
        ("${env.HOME}", "not a reference"),
        ("${}", "not a reference"),
    ],
)
def test_malformed_references_say_why(text: str, reason: str) -> None:
    with pytest.raises(BadRef) as info:
        parse_ref(text)
    assert reason in info.value.reason
    assert info.value.hint


def test_find_refs_walks_strings_lists_and_dicts() -> None:
    value = {
        "a": "A ${inputs.x} and ${steps.s.output}",
        "b": ["${item}", 3, None, {"c": "${steps.t.outputs[2]}"}],
        "bad": "${nope}",
    }
    assert [r.text for r in find_refs(value)] == [
        "${inputs.x}",
        "${steps.s.output}",
        "${item}",
        "${steps.t.outputs[2]}",
    ]


def test_resolve_whole_reference_keeps_the_object_and_embedded_ones_become_text() -> None:
    artifacts: dict[str, Any] = {"hero": object(), "shots": ["s0", "s1"]}

    def lookup(ref: Ref) -> Any:
        if ref.kind == "inputs":
            return "Lemon soda"
        if ref.meta:
            return 4.5
        return artifacts[ref.name] if ref.attr == "output" else artifacts["shots"]

    value = {
        "image": "${steps.hero.output}",
        "shots": "${steps.shots.outputs}",
        "text": "A ${inputs.product} in ${steps.cut.output.duration_s} s",
        "list": ["${inputs.product}", 7],
    }
    out = resolve(value, lookup)
    assert out["image"] is artifacts["hero"]
    assert out["shots"] == ["s0", "s1"]
    assert out["text"] == "A Lemon soda in 4.5 s"
    assert out["list"] == ["Lemon soda", 7]


def _pipeline(*steps: tuple[str, str]) -> Pipeline:
    return Pipeline(name="g", steps=[Step(id=i, task="text", prompt=prompt) for i, prompt in steps])


def test_step_deps_and_topological_order() -> None:
    pipeline = _pipeline(
        ("cut", "${steps.voice.output} ${steps.music.output}"),
        ("voice", "${steps.script.output}"),
        ("music", "plain"),
        ("script", "${inputs.product}"),
    )
    assert step_deps(pipeline.step("cut")) == {"voice", "music"}
    assert levels(pipeline) == [["music", "script"], ["voice"], ["cut"]]
    order = topo_order(pipeline)
    assert order.index("script") < order.index("voice") < order.index("cut")
    assert find_cycle(pipeline) is None


def test_deps_come_from_inputs_params_and_foreach_too() -> None:
    step = Step(
        id="s",
        task="image-to-video",
        inputs={"image": "${item}"},
        params={"seed": "${steps.a.output.width}"},
        foreach="${steps.b.outputs}",
    )
    assert step_deps(step) == {"a", "b"}


def test_cycle_is_found_and_ordering_refuses_it() -> None:
    pipeline = _pipeline(
        ("a", "${steps.c.output}"), ("b", "${steps.a.output}"), ("c", "${steps.b.output}")
    )
    assert find_cycle(pipeline) == ["a", "c", "b", "a"]
    with pytest.raises(ValueError, match="cycle"):
        topo_order(pipeline)


def test_self_reference_is_a_cycle() -> None:
    assert find_cycle(_pipeline(("a", "${steps.a.output}"))) == ["a", "a"]
