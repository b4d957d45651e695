"""Checks only the catalog can answer, and the combined validate_file pass."""

from __future__ import annotations

import pytest

from podium.catalog import Catalog, Limits, ModelCard, ParamSpec
from podium.catalog.checks import check_catalog, validate_file
from podium.errors import Problem, SpecError
from podium.spec.loader import load_pipeline_text
from tests.spec.specfiles import SpecFile, only

CATALOG = Catalog(
    [
        ModelCard(id="local/template", tasks=("text",)),
        ModelCard(
            id="acme/clip",
            tasks=("text-to-video", "image-to-video"),
            limits=Limits(max_duration_s=10, fps=(24,), aspect_ratios=("16:9", "9:16")),
            params={"motion": ParamSpec(type="float")},
        ),
        ModelCard(
            id="acme/longclip",
            tasks=("text-to-video",),
            limits=Limits(max_duration_s=20, max_width=1280, fps=(24, 30)),
            capabilities=("seed",),
        ),
        ModelCard(id="acme/pix", tasks=("text-to-image",), params={"guidance": ParamSpec()}),
    ]
)

VIDEO = "{subject: can, action: spins, camera: orbit, duration_s: 8}"


def _check(*fields: str, head: str = "") -> list[Problem]:
    """Check a one-step pipeline whose step has ``fields`` (``"task: text"`` ...), in order;
    ``head`` goes before ``steps:`` (``inputs: ...``)."""
    step = "  - " + "\n    ".join(fields) + "\n"
    loaded = load_pipeline_text(f"name: p\n{head}steps:\n{step}", filename="p.yaml")
    return check_catalog(loaded, CATALOG)


PHOTO = "inputs: {photo: {type: image, required: false}}\n"


def test_unknown_pinned_model_suggests_the_closest() -> None:
    problem = only(
        _check("id: s", "task: text-to-video", f"prompt: {VIDEO}", "route: {pin: acme/clp}"),
        "unknown model",
    )
    assert (problem.line, problem.col, problem.path) == (6, 18, "steps[0].route.pin")
    assert problem.hint == "did you mean 'acme/clip'?"


def test_pinned_model_that_cannot_run_the_task() -> None:
    problem = only(
        _check("id: s", "task: text-to-image", "prompt: {subject: x}", "route: {pin: acme/clip}"),
        "cannot run",
    )
    assert problem.message == "acme/clip cannot run task text-to-image"


def test_unknown_excluded_model() -> None:
    problem = only(
        _check(
            "id: s",
            "task: text-to-video",
            f"prompt: {VIDEO}",
            "route: {exclude: [acme/pixx, acme]}",
        ),
        "unknown model or provider",
    )
    assert problem.path == "steps[0].route.exclude[0]"
    assert problem.hint == "did you mean 'acme/pix'?"


def test_task_no_card_supports() -> None:
    problem = only(_check("id: m", "task: text-to-music", "prompt: {genre: pop}"), "no model")
    assert problem.message == "no model in the catalog runs task text-to-music"
    assert (problem.line, problem.path) == (4, "steps[0].task")


def test_duration_no_capable_model_supports() -> None:
    too_long = VIDEO.replace("duration_s: 8", "duration_s: 25")
    problem = only(_check("id: s", "task: text-to-video", f"prompt: {too_long}"), "supports")
    assert problem.message == "no model of task text-to-video supports duration_s 25"
    assert problem.path == "steps[0].prompt.duration_s"
    assert problem.hint and "acme/longclip: 0-20 s" in problem.hint
    # 15 s fits the longer model, unless it is excluded
    ok = VIDEO.replace("duration_s: 8", "duration_s: 15")
    assert _check("id: s", "task: text-to-video", f"prompt: {ok}") == []
    excluded = _check(
        "id: s", "task: text-to-video", f"prompt: {ok}", "route: {exclude: [acme/longclip]}"
    )
    assert [p.path for p in excluded] == ["steps[0].prompt.duration_s"]


def test_aspect_ratio_fps_and_width_in_params_and_variants() -> None:
    problems = _check(
        "id: s",
        "task: image-to-video",
        f"prompt: {VIDEO}",
        "inputs: {image: '${inputs.photo}'}",
        "params: {fps: 60}",
        "variants: {vary: {aspect_ratio: ['16:9', '4:3']}}",
        head=PHOTO,
    )
    assert sorted(p.path for p in problems) == [
        "steps[0].params.fps",
        "steps[0].variants.vary.aspect_ratio[1]",
    ]


def test_needs_a_capability_no_model_declares() -> None:
    problem = only(
        _check(
            "id: s",
            "task: image-to-video",
            "inputs: {image: '${inputs.photo}'}",
            "route: {needs: [seed]}",
            head=PHOTO,
        ),
        "declares",
    )
    assert problem.message == "no model of task image-to-video declares 'seed'"


def test_undeclared_param_is_a_warning_with_did_you_mean() -> None:
    problem = only(
        _check("id: p", "task: text-to-image", "prompt: {subject: x}", "params: {guidence: 3}"),
        "declares param",
    )
    assert problem.severity == "warning"
    assert problem.hint == "did you mean 'guidance'?"


def test_a_param_value_every_declaring_model_refuses_is_an_error() -> None:
    cards = Catalog(
        [
            ModelCard(
                id="acme/pix",
                tasks=("text-to-image",),
                params={
                    "width": ParamSpec(type="int", min=8, max=4096),
                    "style": ParamSpec(choices=("flat", "glossy")),
                },
            ),
            ModelCard(
                id="acme/pix2",
                tasks=("text-to-image",),
                params={"width": ParamSpec(type="int", min=64)},
            ),
        ]
    )
    text = (
        "name: p\nsteps:\n  - id: s\n    task: text-to-image\n    prompt: {subject: x}\n"
        "    params: PARAMS\n"
    )
    for params, path, says in (
        ("{width: -5}", "steps[0].params.width", "-5 is below the minimum 8"),
        ("{width: abc}", "steps[0].params.width", "'abc' is not a number"),
        ("{width: 12.5}", "steps[0].params.width", "12.5 is not a whole number"),
        ("{style: shiny}", "steps[0].params.style", "'shiny' is not one of flat, glossy"),
    ):
        loaded = load_pipeline_text(text.replace("PARAMS", params), filename="p.yaml")
        (problem,) = [p for p in check_catalog(loaded, cards) if p.severity == "error"]
        assert (problem.path, problem.line) == (path, 6)
        assert problem.message.startswith(says) and "every model that declares" in problem.message
    # one model taking it is enough: the router leaves out the others (test_filters.py)
    loaded = load_pipeline_text(text.replace("PARAMS", "{width: 32}"), filename="p.yaml")
    assert [p for p in check_catalog(loaded, cards) if p.severity == "error"] == []


def test_validate_file_collects_everything_and_strict_promotes_warnings(
    spec_file: SpecFile,
) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: shot
            task: text-to-video
            prompt: man running in the forest
        """
    )
    loaded, warnings = validate_file(path, CATALOG)
    assert loaded.pipeline.steps[0].id == "shot"
    assert [w.code for w in warnings] == ["lint"]
    with pytest.raises(SpecError) as info:
        validate_file(path, CATALOG, strict=True)
    (problem,) = info.value.problems
    assert problem.severity == "error" and problem.message.endswith("(--strict)")


def test_select_needs_a_score_model() -> None:
    problem = only(
        _check(
            "id: hero",
            "task: text-to-image",
            "prompt: {subject: x}",
            "variants: {count: 3}",
            "select: {by: quality}",
        ),
        "score model",
    )
    assert (problem.line, problem.path) == (7, "steps[0].select")
    assert problem.hint == "add a card for task score, or remove `select`"
