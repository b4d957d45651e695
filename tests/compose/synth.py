"""Synthetic media made with ffmpeg: test-pattern shots and a quiet tone+noise mix."""

from __future__ import annotations

import subprocess
from pathlib import Path

from podium.media.ffmpeg import ffmpeg_exe
from podium.providers.base import InputArtifact
from podium.spec.vocabulary import ArtifactType


def make_shot(path: Path, source: str, seconds: float, size: str = "640x360") -> InputArtifact:
    """A test-pattern H.264 shot."""
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
         f"{source}=size={size}:rate=24", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return InputArtifact(ArtifactType.VIDEO, path, path.name, {"duration_s": seconds})


def make_audio(path: Path, seconds: float, graph: str | None = None) -> InputArtifact:
    """A quiet tone with noise, well below the loudness target, so normalisation must work."""
    graph = graph or (
        f"sine=frequency=330:sample_rate=48000:duration={seconds}[a];"
        f"anoisesrc=color=pink:sample_rate=48000:amplitude=0.05:duration={seconds}[b];"
        "[a][b]amix=inputs=2,volume=-18dB"
    )
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-filter_complex", graph, str(path)],
        check=True,
    )
    return InputArtifact(ArtifactType.AUDIO, path, path.name, {"duration_s": seconds})
