"""local/studio-motion and local/kenburns: real MP4s whose ends are the framings asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from podium.errors import InvalidInput
from podium.media.ffmpeg import probe
from podium.media.image import load_rgb
from podium.media.video import read_frames
from podium.providers.base import InputArtifact
from podium.providers.local.kenburns import Crop
from podium.providers.local.scene import Scene, framing_camera
from podium.providers.local.scene.post import psnr
from podium.providers.local.scene.render import render
from podium.spec.vocabulary import ArtifactType, Task

from .conftest import H, Runner, W


def _check_mp4(path: Path, seconds: float, fps: float) -> list[np.ndarray]:
    info = probe(path)
    assert info.video is not None and info.video.codec == "h264"
    assert (info.video.width, info.video.height) == (W, H)
    assert info.duration_s is not None and abs(info.duration_s - seconds) <= 1 / fps + 1e-3
    frames = read_frames(path)
    assert abs(len(frames) - seconds * fps) <= 1
    return frames


def test_image_to_video_starts_on_the_still_and_ends_on_the_last_framing(runner: Runner) -> None:
    still, meta, artifact = runner.still({"subject": "a perfume", "lighting": "softbox"})
    last = {"camera": "right", "composition": "close-up", "perspective": "eye-level"}
    result = runner.run(
        "studio-motion",
        Task.IMAGE_TO_VIDEO,
        {"camera": "orbit", "duration_s": 1, "last_frame": last},
        {"fps": 24},
        inputs={"image": artifact},
    )
    frames = _check_mp4(result.outputs[0].path, 1.0, 24)
    assert result.outputs[0].metadata["quality"] == "fast"
    # the first frame is the still itself, though a moving frame is anti-aliased by FXAA and
    # the still by 4x MSAA and supersampling
    assert psnr(frames[0], still) > 30
    scene = Scene.from_dict(meta["scene"])
    end = scene.with_camera(framing_camera(scene.product, last, scene.camera, W / H))
    # the last framing, against a still of it rendered the way moving frames are
    assert psnr(frames[-1], render(end, W, H, motion=True)) > 30
    # the camera moved: the middle is neither end
    middle = frames[len(frames) // 2]
    assert psnr(middle, frames[0]) < 28 and psnr(middle, frames[-1]) < 28


def test_text_to_video_honours_both_framings(runner: Runner) -> None:
    first = {"composition": "wide", "perspective": "eye-level"}
    last = {"composition": "close-up", "perspective": "three-quarter"}
    prompt = {"subject": "a tea box", "camera": "dolly in", "duration_s": 1}
    result = runner.run(
        "studio-motion",
        Task.TEXT_TO_VIDEO,
        {**prompt, "first_frame": first, "last_frame": last},
        {"fps": 30},
        seed=5,
    )
    frames = _check_mp4(result.outputs[0].path, 1.0, 30)
    assert result.outputs[0].metadata["frames"] == len(frames)
    for framing, frame in ((first, frames[0]), (last, frames[-1])):
        still, _, _ = runner.still({"subject": "a tea box", **framing}, seed=5)
        assert psnr(frame, still) > 30, framing


def test_best_quality_renders_every_frame_as_a_still(runner: Runner) -> None:
    still, meta, artifact = runner.still(
        {"subject": "a glass bottle of soda", "lighting": "window"}
    )
    last = {"camera": "left", "composition": "medium", "perspective": "three-quarter"}
    runs = {
        quality: runner.run(
            "studio-motion",
            Task.IMAGE_TO_VIDEO,
            {"camera": "orbit", "duration_s": 1, "last_frame": last},
            {"fps": 24, "quality": quality},
            inputs={"image": artifact},
        )
        for quality in ("fast", "best")
    }
    scene = Scene.from_dict(meta["scene"])
    end = scene.with_camera(framing_camera(scene.product, last, scene.camera, W / H))
    as_still, as_motion = render(end, W, H, supersample=2), render(end, W, H, motion=True)
    best = _check_mp4(runs["best"].outputs[0].path, 1.0, 24)
    fast = _check_mp4(runs["fast"].outputs[0].path, 1.0, 24)
    assert psnr(best[0], still) > 30 and psnr(best[-1], as_still) > 30
    assert psnr(fast[-1], as_motion) > 30
    # each matches its own way of rendering better than the other's: the flag is honoured
    assert psnr(best[-1], as_still) > psnr(best[-1], as_motion)
    assert psnr(fast[-1], as_motion) > psnr(fast[-1], as_still)


def test_an_unknown_quality_is_refused(runner: Runner) -> None:
    with pytest.raises(InvalidInput, match="quality"):
        runner.run(
            "studio-motion",
            Task.TEXT_TO_VIDEO,
            {"subject": "a can", "duration_s": 1},
            {"quality": "ultra"},
        )


def test_image_to_video_refuses_a_still_without_a_scene(runner: Runner, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (W, H), (90, 120, 200)).save(photo)
    artifact = InputArtifact(ArtifactType.IMAGE, photo, "0" * 64, {"width": W, "height": H})
    with pytest.raises(InvalidInput, match="studio"):
        runner.run("studio-motion", Task.IMAGE_TO_VIDEO, {"duration_s": 2}, {}, {"image": artifact})


def test_duration_outside_the_cards_range_is_refused(runner: Runner) -> None:
    with pytest.raises(InvalidInput, match="duration_s"):
        runner.run("studio-motion", Task.TEXT_TO_VIDEO, {"subject": "a can", "duration_s": 12})


def _photo(path: Path) -> np.ndarray:
    """A busy test picture: gradients and blocks, so crops are easy to tell apart."""
    y, x = np.mgrid[0:300, 0:480]
    img = np.stack([x * 255 // 480, y * 255 // 300, (x + y) % 256], axis=-1).astype(np.uint8)
    img[60:140, 80:200] = (240, 40, 40)
    img[180:260, 300:420] = (30, 200, 90)
    Image.fromarray(img).save(path)
    return img


def _crop(img: np.ndarray, crop: Crop) -> np.ndarray:
    x, y, w, h = crop.rect((img.shape[1], img.shape[0]), W / H)
    box = (x, y, x + w, y + h)
    return np.asarray(Image.fromarray(img).resize((W, H), Image.Resampling.BILINEAR, box=box))


def test_kenburns_ends_are_crops_of_the_still(runner: Runner, tmp_path: Path) -> None:
    img = _photo(tmp_path / "photo.png")
    artifact = InputArtifact(ArtifactType.IMAGE, tmp_path / "photo.png", "0" * 64, {})
    cases = (
        ({"camera": "zoom in"}, Crop(1.0), Crop(1.35)),
        ({"camera": "pan left"}, Crop(1.3, 1.0), Crop(1.3, 0.0)),
        (
            {"first_frame": {"composition": "close-up", "camera": "left"}, "last_frame": "wide"},
            Crop(1.8, 0.0),
            Crop(1.0),
        ),
    )
    for prompt, first, last in cases:
        result = runner.run(
            "kenburns",
            Task.IMAGE_TO_VIDEO,
            {**prompt, "duration_s": 1},
            {"fps": 24},
            {"image": artifact},
        )
        frames = _check_mp4(result.outputs[0].path, 1.0, 24)
        assert psnr(frames[0], _crop(img, first)) > 30, prompt
        assert psnr(frames[-1], _crop(img, last)) > 30, prompt
        assert psnr(frames[0], frames[-1]) < 25, prompt


def test_kenburns_parallax_moves_near_parts_more(runner: Runner, tmp_path: Path) -> None:
    still, _, artifact = runner.still({"subject": "a mug", "background": "solid"})
    result = runner.run(
        "kenburns",
        Task.IMAGE_TO_VIDEO,
        {"camera": "parallax", "duration_s": 1},
        {"fps": 24},
        {"image": artifact},
    )
    frames = _check_mp4(result.outputs[0].path, 1.0, 24)
    assert psnr(frames[0], frames[-1]) < 30
    assert load_rgb(artifact.path).shape == still.shape
