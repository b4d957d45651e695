"""media.video: frames in, an H.264 MP4 out, the same frames back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podium.errors import BadOutput
from podium.media.ffmpeg import probe
from podium.media.video import VideoWriter, count_frames, read_frames


def test_frames_round_trip_through_h264(tmp_path: Path) -> None:
    out = tmp_path / "ramp.mp4"
    with VideoWriter(out, 64, 48, 30) as writer:
        for i in range(30):
            writer.write(np.full((48, 64, 3), 8 * i, np.uint8))
    info = probe(out)
    assert info.video is not None and info.video.codec == "h264"
    assert info.video.pix_fmt == "yuv420p"
    assert info.duration_s == pytest.approx(1.0, abs=1 / 30)
    frames = read_frames(out, [0, -1])
    assert abs(float(frames[0].mean()) - 0) < 3 and abs(float(frames[1].mean()) - 232) < 3
    assert count_frames(out) == 30


def test_odd_sizes_and_wrong_frames_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadOutput, match="even"):
        VideoWriter(tmp_path / "odd.mp4", 63, 48, 24)
    writer = VideoWriter(tmp_path / "x.mp4", 64, 48, 24)
    with pytest.raises(BadOutput, match="expected"):
        writer.write(np.zeros((10, 10, 3), np.uint8))
    writer.abort()
    assert not (tmp_path / "x.mp4").exists()


def test_an_encoder_that_dies_mid_shot_is_reported_not_hung(tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "dead.mp4", 64, 48, 24)
    writer._proc.kill()  # ffmpeg gone while frames are still coming (out of disk, OOM kill)
    with pytest.raises(BadOutput, match="ffmpeg"):
        for _ in range(200):  # the writer thread notices the broken pipe within a few frames
            writer.write(np.zeros((48, 64, 3), np.uint8))
        writer.close()
    writer.abort()
