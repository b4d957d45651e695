"""Whatever a spec file holds, loading and checking it yields problems, never a traceback."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.catalog import Catalog, Limits, ModelCard
from podium.catalog.checks import check_catalog
from podium.errors import Problem, SpecError
from podium.spec.lint import lint
from podium.spec.loader import load_partial_text, load_pipeline_text
from podium.spec.validate import check
from podium.spec.vocabulary import Task
from tests.spec.specfiles import RICH_SPEC

CATALOG = Catalog(
    [
        ModelCard(id=f"acme/{task.value}", tasks=(task,), limits=Limits(max_duration_s=10))
        for task in Task
    ]
)
# FUZZ_EXAMPLES=5000 pytest tests/spec/test_fuzz.py digs deeper than the suite's quick pass
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TOKENS = [
    "text",
    "text-to-video",
    "audio",
    "${item}",
    "${steps.hero.outputs}",
    "${steps.nope.output}",
    "${inputs.x}",
    "${steps.voice.outputs[9]}",
    "${",
    "}",
    "-1",
    "0",
    "1e9",
    "null",
    "[]",
    "{}",
    "~",
    "&a",
    "*a",
    "!!binary",
    "<<: {id: z}\n",
    "? ",
    "--- ",
    "\t",
    ":",
    "- ",
    "'",
    '"',
    "\n",
    "hero",
    "select",
    "variants",
    "foreach",
]


def _run_everything(text: str) -> list[Problem]:
    loaded, problems = load_partial_text(text, "fuzz.yaml")
    if loaded is not None:
        problems = problems + check(loaded) + check_catalog(loaded, CATALOG) + lint(loaded)
    for problem in problems:
        assert problem.severity in ("error", "warning")
        assert problem.message and problem.one_line()
        json.dumps(problem.to_dict())
    try:
        load_pipeline_text(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.problems
    return problems


def test_the_rich_spec_is_clean() -> None:
    assert _run_everything(RICH_SPEC) == []


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = RICH_SPEC
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "token", "lines"]))
        if op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)) :]
        elif op == "insert":
            text = text[:pos] + draw(st.text(max_size=8)) + text[pos:]
        elif op == "token":
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos:]
        else:
            lines = text.splitlines()
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@FUZZ
@given(mutated())
def test_mutations_of_a_valid_spec_only_yield_problems(text: str) -> None:
    _run_everything(text)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_only_yields_problems(text: str) -> None:
    _run_everything(text)


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(TOKENS),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "task",
                    "prompt",
                    "inputs",
                    "params",
                    "variants",
                    "vary",
                    "count",
                    "select",
                    "foreach",
                    "route",
                    "pin",
                    "steps",
                    "name",
                    "type",
                    "default",
                    "subject",
                    "duration_s",
                    "image",
                    "by",
                    "keep",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@FUZZ
@given(st.fixed_dictionaries({"name": JSONISH, "inputs": JSONISH, "steps": JSONISH}))
def test_random_structures_only_yield_problems(data: dict[str, Any]) -> None:
    _run_everything(json.dumps(data))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


@FUZZ
@given(st.data())
def test_replacing_any_field_of_a_valid_spec_only_yields_problems(data: st.DataObject) -> None:
    from podium.spec.source import parse_yaml

    tree, _ = parse_yaml(RICH_SPEC)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(tree) if p]
        path = data.draw(st.sampled_from(paths))
        parent = tree
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = data.draw(JSONISH)
    _run_everything(json.dumps(tree))


def test_yaml_merge_keys_and_anchors_load() -> None:
    text = (
        "name: p\n"
        "base: &base {task: text, prompt: hi}\n"
        "steps:\n"
        "  - <<: *base\n"
        "    id: a\n"
        "  - <<: *base\n"
        "    id: b\n"
        "    promt: x\n"
    )
    problems = _run_everything(text)
    assert [(p.line, p.path) for p in problems] == [(2, "base"), (8, "steps[1].promt")]
