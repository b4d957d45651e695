"""Writing specs and collecting the problems they yield."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from podium.errors import Problem, SpecError
from podium.spec.loader import load_pipeline

SpecFile = Callable[[str], Path]


def writer(path: Path) -> SpecFile:
    """A function writing dedented YAML to ``path``."""

    def write(text: str) -> Path:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def problems_of(path: Path, sets: dict[str, str] | None = None) -> list[Problem]:
    """The problems loading ``path`` raises (fails the test if it loads cleanly)."""
    with pytest.raises(SpecError) as info:
        load_pipeline(path, sets or {})
    return info.value.problems


def only(problems: list[Problem], needle: str) -> Problem:
    """The single problem whose message contains ``needle``."""
    found = [p for p in problems if needle in p.message]
    assert len(found) == 1, [p.one_line() for p in problems]
    return found[0]


def at(problem: Problem) -> tuple[int | None, int | None, str]:
    """``(line, col, field path)`` of a problem."""
    return problem.line, problem.col, problem.path


RICH_SPEC = """\
name: promo
description: Product images, shots, voice, music and a final cut.
inputs:
  product: Lemon soda
  ratios: {type: list, default: ["16:9", "9:16"]}
  photo: {type: image, required: false}
policy: balanced
consistency: {seed: 7, references: {look: "${steps.hero.output}"}}
steps:
  - id: hero
    task: text-to-image
    prompt:
      subject: "a chilled can of ${inputs.product}"
      style: product photo
      lighting: soft window light
      composition: centered
      perspective: eye level
    variants: {count: 2, vary: {mood: [fresh, calm]}}
    select: {by: quality, keep: 2}
    route: {policy: best, max_cost_usd: 0.5}
  - id: shots
    task: image-to-video
    foreach: "${steps.hero.outputs}"
    inputs: {image: "${item}"}
    prompt: {action: the can spins, camera: slow orbit, duration_s: 4}
    params: {fps: 24, aspect_ratio: "16:9"}
    retry: {attempts: 2, backoff_s: 0.5}
    timeout_s: 120
  - id: script
    task: text
    prompt: {template: "Meet ${inputs.product}. Cold and bright."}
  - id: voice
    task: text-to-speech
    prompt: {text: "${steps.script.output}", voice: warm}
  - id: music
    task: text-to-music
    prompt: {genre: lo-fi, duration_s: "${steps.voice.output.duration_s}"}
  - id: mix
    task: mix-audio
    inputs: {voice: "${steps.voice.output}", music: "${steps.music.output}"}
  - id: cut
    task: compose-video
    inputs:
      shots: "${steps.shots.outputs}"
      audio: "${steps.mix.output}"
      subtitles: "${steps.voice.outputs[1]}"
    cache: false
"""
