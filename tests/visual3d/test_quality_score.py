"""Scoring ranks degradations of one render in order, for images, videos and audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from podium.media.ffmpeg import run_ffmpeg
from podium.media.quality import brisque_score, measure
from podium.providers.base import InputArtifact, ignore_events
from podium.providers.local.quality_score import ENGINE
from podium.spec.vocabulary import ArtifactType, Task
from tests.visual3d.conftest import MakeRequest
from tests.visual3d.images import LADDERS, product_still


@pytest.fixture(scope="module")
def studio_still() -> np.ndarray:
    """A product shot from the studio engine: a glass bottle on a sweep, three-point light."""
    from podium.providers.local.scene import scene_from_prompt
    from podium.providers.local.scene.render import render

    scene = scene_from_prompt({"subject": "a glass bottle", "lighting": "studio"}, {}, 1)
    return render(scene, 384, 288, supersample=2)


def _item(path: Path, kind: ArtifactType = ArtifactType.IMAGE) -> InputArtifact:
    return InputArtifact(kind, path, sha256=path.name)


def _score(make_request: MakeRequest, items: tuple[InputArtifact, ...]) -> list[dict]:
    request = make_request("local/quality-score", Task.SCORE, inputs={"items": items})
    result = ENGINE.run(request, ignore_events)
    doc = json.loads(result.outputs[0].path.read_text())
    assert doc["by"] == "quality"
    assert [s["index"] for s in doc["scores"]] == list(range(len(items)))
    return list(doc["scores"])


@pytest.mark.parametrize("ladder", sorted(LADDERS))
def test_a_ladder_of_degradations_scores_in_order(
    ladder: str, studio_still: np.ndarray, make_request: MakeRequest, tmp_path: Path
) -> None:
    degrade, levels = LADDERS[ladder]
    still = studio_still
    images = [still] + [degrade(still, level) for level in levels]  # type: ignore[operator]
    items = []
    for i, rgb in enumerate(images):
        path = tmp_path / f"{ladder}-{i}.png"
        Image.fromarray(rgb).save(path)
        items.append(_item(path))
    # handed over shuffled: the engine must score each on its own merits, in input order
    order = [2, 0, 3, 1]
    scores = _score(make_request, tuple(items[i] for i in order))
    by_level = [scores[order.index(level)]["quality"] for level in range(len(images))]
    assert by_level == sorted(by_level, reverse=True), f"{ladder}: {by_level}"
    assert all(0.0 <= q <= 1.0 for q in by_level)


def test_brisque_runs_on_numpy_2_and_tells_noise_on_a_photograph() -> None:
    # a natural photograph shipped with scikit-image: BRISQUE's home ground
    import skimage.data

    photo = np.asarray(skimage.data.astronaut(), dtype=np.uint8)
    grain = np.random.default_rng(3).normal(0, 25, photo.shape)
    noisy = np.asarray(np.clip(photo + grain, 0, 255), dtype=np.uint8)
    clean_score, noisy_score = brisque_score(photo), brisque_score(noisy)
    assert clean_score < 30 < noisy_score


def test_a_video_is_scored_on_sampled_frames(make_request: MakeRequest, tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    Image.fromarray(product_still(256)).save(still)
    clips = []
    for name, vf in (("clean", "null"), ("blurred", "gblur=sigma=4")):
        clip = tmp_path / f"{name}.mp4"
        run_ffmpeg(
            [
                "-loop",
                "1",
                "-i",
                str(still),
                "-t",
                "1",
                "-r",
                "12",
                "-vf",
                vf,
                "-pix_fmt",
                "yuv420p",
                "-c:v",
                "libx264",
                "-crf",
                "12",
                str(clip),
            ]
        )
        clips.append(_item(clip, ArtifactType.VIDEO))
    clean, blurred = _score(make_request, tuple(clips))
    assert clean["frames"] == 3
    assert clean["quality"] > blurred["quality"]
    assert clean["sharpness"] > 3 * blurred["sharpness"]


def test_audio_is_scored_on_clipping_loudness_and_silence(
    make_request: MakeRequest, tmp_path: Path
) -> None:
    rate = 48_000
    t = np.arange(rate * 2) / rate
    tone = 0.25 * np.sin(2 * np.pi * 440 * t)
    files = {
        "good": tone,
        "clipped": np.clip(tone * 8, -1, 1),
        "mostly-silent": np.where(t < 1.7, 0.0, tone),
    }
    items = []
    for name, signal in files.items():
        path = tmp_path / f"{name}.wav"
        soundfile.write(path, signal, rate)
        items.append(_item(path, ArtifactType.AUDIO))
    good, clipped, silent = _score(make_request, tuple(items))
    assert good["brisque"] is None
    assert clipped["clipping"] > 0.1
    assert silent["silence"] > 0.8
    assert good["quality"] > clipped["quality"]
    assert good["quality"] > silent["quality"]


def test_scores_are_repeatable() -> None:
    # the same image gives the same reported figures (BRISQUE's fit wobbles at 1e-13 only)
    still = product_still(200)
    assert measure(still).to_dict() == measure(still).to_dict()


def test_a_drawn_still_ranks_its_ladders_too() -> None:
    # flat, hand-drawn pixels (no lighting at all): the measures must not depend on the renderer
    still = product_still()
    for degrade, levels in LADDERS.values():
        scores = [measure(still).quality] + [measure(degrade(still, v)).quality for v in levels]  # type: ignore[operator]
        assert scores == sorted(scores, reverse=True)
