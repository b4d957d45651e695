"""local/grade: each grade moves the picture's colour statistics the way its name says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podium.errors import InvalidInput
from podium.media.image import hsv_stats, load_rgb
from podium.providers.base import InputArtifact
from podium.spec.vocabulary import ArtifactType, Task

from .conftest import Runner


@pytest.fixture
def still(runner: Runner) -> InputArtifact:
    """A colourful studio still to grade."""
    _, _, artifact = runner.still({"subject": "a red can", "lighting": "golden hour"})
    return artifact


def _graded(runner: Runner, still: InputArtifact, **params: object) -> dict[str, float]:
    result = runner.run("grade", Task.IMAGE_TO_IMAGE, None, dict(params), {"image": still})
    out = load_rgb(result.outputs[0].path)
    assert out.shape == load_rgb(still.path).shape
    return hsv_stats(out)


def test_each_grade_moves_colour_statistics_its_way(runner: Runner, still: InputArtifact) -> None:
    base = hsv_stats(load_rgb(still.path))
    noir = _graded(runner, still, grade="noir")
    assert noir["saturation"] < 0.01
    assert noir["contrast"] > base["contrast"]
    vivid = _graded(runner, still, grade="vivid")
    assert vivid["saturation"] > base["saturation"] * 1.2
    pastel = _graded(runner, still, grade="pastel")
    assert pastel["saturation"] < base["saturation"] * 0.8
    assert pastel["contrast"] < base["contrast"]
    assert pastel["luma"] > base["luma"]
    assert _graded(runner, still, grade="warm")["warmth"] > base["warmth"] + 0.02
    assert _graded(runner, still, grade="cool")["warmth"] < base["warmth"] - 0.02
    assert _graded(runner, still, grade="cinematic")["contrast"] > base["contrast"]
    bleach = _graded(runner, still, grade="bleach")
    assert bleach["saturation"] < base["saturation"] * 0.7
    assert _graded(runner, still, grade="vintage")["saturation"] < base["saturation"]


def test_strength_and_style_words(runner: Runner, still: InputArtifact) -> None:
    base = hsv_stats(load_rgb(still.path))
    half = _graded(runner, still, grade="noir", strength=0.5)
    assert 0.2 * base["saturation"] < half["saturation"] < 0.8 * base["saturation"]
    result = runner.run(
        "grade", Task.IMAGE_TO_IMAGE, {"style": "black and white film"}, {}, {"image": still}
    )
    assert result.outputs[0].metadata["grade"] == "noir"


def test_an_unknown_grade_names_the_choices(runner: Runner, tmp_path: Path) -> None:
    still = tmp_path / "x.png"
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(still)
    artifact = InputArtifact(ArtifactType.IMAGE, still, "0" * 64, {})
    with pytest.raises(InvalidInput, match="noir"):
        runner.run("grade", Task.IMAGE_TO_IMAGE, None, {"grade": "sepia"}, {"image": artifact})
