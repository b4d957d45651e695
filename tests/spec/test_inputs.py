"""``--set`` values and defaults become values of the input's declared type."""

from __future__ import annotations

from typing import Any

import pytest

from podium.spec.inputs import coerce_default, coerce_input
from podium.spec.loader import load_pipeline_text

SPEC = """
name: p
inputs:
  n: {type: int, default: 3}
  ratio: {type: float, default: 1}
  loud: {type: bool, default: false}
  ratios: ["16:9"]
  extra: {type: json, default: {a: 1}}
  photo: {type: image, required: false}
steps:
  - {id: a, task: text, prompt: "${inputs.n}"}
"""


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("int", " 42 ", 42),
        ("float", "2.5", 2.5),
        ("bool", "Yes", True),
        ("bool", "0", False),
        ("list", "16:9, 9:16", ["16:9", "9:16"]),
        ("list", '["a,b", "c"]', ["a,b", "c"]),
        ("json", '{"k": [1, 2]}', {"k": [1, 2]}),
        ("string", " keep spaces ", " keep spaces "),
        ("image", "photos/can.png", "photos/can.png"),
    ],
)
def test_set_values_are_coerced(kind: str, raw: str, value: Any) -> None:
    assert coerce_input(kind, raw) == value


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("int", "4.5", "not an integer"),
        ("float", "fast", "not a number"),
        ("bool", "maybe", "not true/false"),
        ("list", "[1,", "not valid JSON"),
        ("int", "", "not an integer"),
        ("json", "{nope}", "not valid JSON"),
    ],
)
def test_bad_set_values_say_why(kind: str, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce_input(kind, raw)


def test_defaults_are_checked_against_their_type() -> None:
    assert coerce_default("float", 1) == 1.0
    assert coerce_default("list", "a,b") == ["a", "b"]
    with pytest.raises(ValueError, match="not an integer"):
        coerce_default("int", True)
    with pytest.raises(ValueError, match="not of type string"):
        coerce_default("string", ["x"])


def test_loaded_inputs_merge_defaults_and_sets() -> None:
    loaded = load_pipeline_text(SPEC, sets={"n": "7", "ratios": "1:1,4:5", "loud": "true"})
    assert loaded.inputs == {
        "n": 7,
        "ratio": 1.0,
        "loud": True,
        "ratios": ["1:1", "4:5"],
        "extra": {"a": 1},
        "photo": None,
    }
    again = load_pipeline_text(SPEC, sets={"loud": "true", "ratios": "1:1,4:5", "n": "7"})
    assert again.spec_hash == loaded.spec_hash
    assert load_pipeline_text(SPEC).spec_hash != loaded.spec_hash


@pytest.mark.parametrize("name", ["a b", "5", "-x"])
def test_an_input_name_must_be_referable(name: str) -> None:
    from podium.errors import SpecError

    with pytest.raises(SpecError) as info:
        load_pipeline_text(
            f"name: n\ninputs:\n  '{name}': x\nsteps:\n  - {{id: a, task: text, prompt: hi}}\n",
            "n.yaml",
        )
    (problem,) = info.value.problems
    assert f"input name '{name}' cannot be referenced" in problem.message and problem.line == 3
