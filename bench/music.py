"""Offline music speed: seconds of music rendered per wall second by local/composer and local/synth.

Workload: a 30 s request — genre pop, mood upbeat, 120 bpm, structure intro / verse / chorus /
outro, seed 0 — run through each engine as the runner calls it (compose, MIDI, render, trim to
exactly 30 s, level, write WAV), in this process, 3 repetitions after one warm-up.

Figures: ``composer_x_realtime`` and ``synth_x_realtime`` (median music seconds per wall
second), and as a baseline the bare ``fluidsynth`` program rendering the same MIDI file
(``fluidsynth_x_realtime``) with ``composer_over_fluidsynth`` (how much of the composer's time
is FluidSynth itself).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from podium.catalog import load_catalog
from podium.providers.base import Request, ignore_events
from podium.providers.local.workers import run_engine
from podium.spec.vocabulary import ArtifactType, Task

PROMPT = {
    "genre": "pop",
    "mood": "upbeat",
    "tempo_bpm": 120,
    "duration_s": 30,
    "structure": ["intro", "verse", "chorus", "outro"],
}
RUNS = 3


def _request(model: str, work: Path) -> Request:
    work.mkdir(parents=True, exist_ok=True)
    return Request(
        step_id="music",
        task=Task.TEXT_TO_MUSIC,
        card=load_catalog().get(model),
        prompt=PROMPT,
        prompt_text="",
        inputs={},
        params={},
        seed=0,
        outputs=(ArtifactType.AUDIO, ArtifactType.MIDI),
        work_dir=work,
        idempotency_key=f"bench-{model}",
    )


def _speed(model: str, root: Path) -> tuple[float, Path]:
    """Median music seconds per wall second, and the MIDI file it wrote."""
    run_engine(_request(model, root / "warm"), ignore_events)
    speeds = []
    midi = root
    for i in range(RUNS):
        t0 = time.perf_counter()
        result = run_engine(_request(model, root / str(i)), ignore_events)
        wall = time.perf_counter() - t0
        speeds.append(float(result.outputs[0].metadata["duration_s"]) / wall)
        midi = result.outputs[1].path
    return statistics.median(speeds), midi


def _fluidsynth(midi: Path, root: Path) -> float:
    font = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    speeds = []
    for i in range(RUNS):
        out = root / f"bare{i}.wav"
        t0 = time.perf_counter()
        subprocess.run(
            ["fluidsynth", "-n", "-i", "-q", "-r", "44100", "-F", str(out), font, str(midi)],
            check=True,
            capture_output=True,
        )
        speeds.append(PROMPT["duration_s"] / (time.perf_counter() - t0))  # type: ignore[operator]
    return statistics.median(speeds)


def main() -> None:
    """Run the benchmark and print its JSON line last."""
    with tempfile.TemporaryDirectory(prefix="podium-bench-music-") as tmp:
        root = Path(tmp)
        composer, midi = _speed("local/composer", root / "composer")
        synth, _ = _speed("local/synth", root / "synth")
        bare = _fluidsynth(midi, root)
    figures = {
        "bench": "music",
        "workload": PROMPT,
        "runs": RUNS,
        "composer_x_realtime": round(composer, 2),
        "synth_x_realtime": round(synth, 2),
        "fluidsynth_x_realtime": round(bare, 2),
        "composer_over_fluidsynth": round(bare / composer, 2),
    }
    print(f"music seconds per wall second: composer {composer:.1f}, synth {synth:.1f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
