"""examples/voiceover.yaml runs end to end offline: voice, music sized to it, mix, subtitles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mido
import pytest
import soundfile as sf

from podium.media.subtitles import read_subtitles
from tests.audio import measure

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "voiceover.yaml"
CLI = "import sys; from podium.cli import main; sys.argv[0] = 'podium'; main()"


def test_voiceover_example_runs_offline(tmp_path: Path, podium_home: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_KEY", "_TOKEN"))}
    env["PODIUM_HOME"] = str(podium_home)
    env["PODIUM_WORKERS"] = "1"  # the steps run one after another anyway
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "run", str(EXAMPLE), "--json", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["status"] == "succeeded"
    files = {(o["step"], o["type"]): Path(o["path"]) for o in doc["outputs"]}
    voice, srt = files[("voice", "audio")], files[("voice", "subtitles")]
    music, midi, mix = files[("music", "audio")], files[("music", "midi")], files[("mix", "audio")]
    voice_s = sf.info(str(voice)).duration
    # music sized to the voice, in whole bars, with its four parts
    assert sf.info(str(music)).duration == pytest.approx(voice_s, abs=0.05)
    names = {t.name for t in mido.MidiFile(str(midi)).tracks}
    assert {"chords", "melody", "bass", "drums"} <= names
    # the mix: voice plus the 1.5 s tail, at the speech preset, under the true-peak ceiling
    assert sf.info(str(mix)).duration == pytest.approx(voice_s + 1.5, abs=0.05)
    assert measure.integrated_lufs(mix) == pytest.approx(-16.0, abs=1.0)
    assert measure.true_peak_dbtp(mix) <= -1.0
    cues = read_subtitles(srt)
    assert cues[0].text.startswith("Our new lemon soda")
    assert cues[-1].text == "Grab one today." and cues[-1].end_s <= voice_s
