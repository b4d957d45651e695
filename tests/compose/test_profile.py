"""`podium run --profile delivery` reaches the final cut: 1920×1080 instead of the demo's 720p."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from podium.media.ffmpeg import probe

SPEC = """
name: profile-check
steps:
  - id: shot
    task: text-to-video
    prompt: {subject: a bottle, camera: orbit, duration_s: 2}
    route: {pin: fake/video-a}
  - id: tone
    task: text-to-music
    prompt: {genre: pop, duration_s: 2}
    route: {pin: fake/music-a}
  - id: cut
    task: compose-video
    inputs: {shots: ["${steps.shot.output}"], audio: "${steps.tone.output}"}
    params: {duration_s: 2, end_card: none}
    route: {pin: local/cut}
"""


def _run(spec: Path, home: Path, *extra: str) -> dict[str, object]:
    env = {**os.environ, "PODIUM_HOME": str(home), "PODIUM_ENABLE_FAKE": "1"}
    cmd = [sys.executable, "-m", "podium.cli", "run", str(spec), "--new", "--json", *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(json.loads(proc.stdout))


def test_delivery_profile_reaches_the_cut(tmp_path: Path, podium_home: Path) -> None:
    spec = tmp_path / "profile.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    sizes = {}
    for profile in ("demo", "delivery"):
        doc = _run(spec, podium_home, "--profile", profile, "--out", str(tmp_path / profile))
        outputs = doc["outputs"]
        assert isinstance(outputs, list)
        cut = next(o for o in outputs if o["step"] == "cut")
        video = probe(cut["path"]).video
        assert video is not None
        sizes[profile] = (video.width, video.height)
    assert sizes == {"demo": (1280, 720), "delivery": (1920, 1080)}
