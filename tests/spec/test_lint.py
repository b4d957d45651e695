"""The prompt linter's advice, as a user reads it."""

from __future__ import annotations

import textwrap

from podium.errors import Problem
from podium.spec.lint import lint
from podium.spec.loader import load_pipeline_text


def _lint(steps: str) -> list[Problem]:
    text = "name: p\nsteps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"
    return lint(load_pipeline_text(text, filename="p.yaml"))


def test_plain_video_prompt_misses_camera_and_duration() -> None:
    (problem,) = _lint(
        """
        - id: shot
          task: text-to-video
          prompt: man running in the forest
        """
    )
    assert problem.severity == "warning" and problem.code == "lint"
    assert problem.message == "video prompt says nothing about camera or duration_s"
    assert (problem.line, problem.col, problem.path) == (5, 13, "steps[0].prompt")


def test_plain_video_prompt_with_everything_passes() -> None:
    assert (
        _lint(
            """
            - id: shot
              task: text-to-video
              prompt: a man running through the forest, slow dolly in, 5 s
            """
        )
        == []
    )


def test_structured_image_prompt_lists_missing_fields() -> None:
    (problem,) = _lint(
        """
        - id: pic
          task: text-to-image
          prompt: {subject: a can of soda, style: product photo}
        """
    )
    assert problem.message == "image prompt says nothing about composition, lighting or perspective"
    assert problem.hint == "add `composition:`, `lighting:`, `perspective:` to the prompt"


def test_plain_image_prompt_by_keywords() -> None:
    complete = _lint(
        """
        - id: pic
          task: text-to-image
          prompt: product photo of a soda can, soft window light, centered, eye-level view
        """
    )
    assert complete == []
    (problem,) = _lint(
        """
        - id: pic
          task: text-to-image
          prompt: a soda can in a company kitchen
        """
    )
    assert problem.message == (
        "image prompt says nothing about composition, lighting, perspective or style"
    )


def test_long_video_shot_suggests_stitching() -> None:
    problems = _lint(
        """
        - id: shot
          task: text-to-video
          prompt: {subject: can, action: spins, camera: orbit, duration_s: 15}
        """
    )
    (problem,) = problems
    assert problem.message == "a 15 s video shot is long for one generation"
    assert problem.hint == "stitch shots of 10 s or less with compose-video"


def test_hero_image_with_one_variant() -> None:
    fields = "subject: can, style: photo, lighting: soft, composition: centered, perspective: low"
    (problem,) = _lint(
        f"""
        - id: hero
          task: text-to-image
          prompt: {{{fields}}}
        """
    )
    assert problem.message == "a hero image with a single variant leaves nothing to choose from"
    assert (problem.line, problem.path) == (3, "steps[0]")
    with_variants = _lint(
        f"""
        - id: hero
          task: text-to-image
          prompt: {{{fields}}}
          variants: {{count: 4}}
          select: {{by: quality}}
        """
    )
    assert with_variants == []


def test_text_steps_are_not_linted() -> None:
    assert _lint("- {id: t, task: text, prompt: hi}") == []
