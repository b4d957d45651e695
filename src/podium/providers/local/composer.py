"""``local/composer``: structured music rendered with a General MIDI soundfont via FluidSynth.

The composition (chords, melody, bass, drums as separate MIDI parts, bar-aligned sections) comes
from :mod:`~podium.providers.local.music`; FluidSynth renders the MIDI faster than real time; the
shared finishing step cuts FluidSynth's long near-silent tail so the audio lasts exactly the
duration asked for (or folds it onto the start for a seamless loop).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from podium.catalog.card import ModelCard
from podium.errors import BadOutput, Unavailable
from podium.media.audio import read_audio, resample
from podium.providers.base import Request
from podium.providers.local.engine import check_requirements
from podium.providers.local.music.composition import Composition
from podium.providers.local.music.engine import MusicEngine

SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)


def find_soundfont(card: ModelCard) -> Path | None:
    """The GM soundfont to use: ``PODIUM_SOUNDFONT``, else the card's list, else Debian's.

    ``PODIUM_SOUNDFONT`` names a file (or an empty value: "no soundfont here").
    """
    env = os.environ.get("PODIUM_SOUNDFONT")
    if env is not None:
        return Path(env) if env and Path(env).is_file() else None
    for candidate in (*card.extra.get("soundfonts", ()), *SOUNDFONTS):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


class ComposerEngine(MusicEngine):
    """Compose, then render with the ``fluidsynth`` program and a GM soundfont."""

    name = "composer"

    def check(self, card: ModelCard) -> str | None:
        """Why FluidSynth rendering cannot run: the program or the soundfont missing."""
        if shutil.which("fluidsynth") is None:
            return "program 'fluidsynth' is not installed (run `make setup` as root)"
        missing = check_requirements(tuple(r for r in card.engine if not r.startswith("file:")))
        if missing:
            return missing
        if find_soundfont(card) is None:
            return (
                "no General MIDI soundfont (FluidR3_GM.sf2) found: install Debian "
                "fluid-soundfont-gm (`make setup` as root) or set PODIUM_SOUNDFONT"
            )
        return None

    def render(self, comp: Composition, midi: Path, request: Request) -> np.ndarray:
        """FluidSynth's fast (file) renderer, stereo float at 44.1 kHz."""
        font = find_soundfont(request.card)
        if font is None:
            raise Unavailable(
                "no General MIDI soundfont found",
                where=f"step {request.step_id}",
                hint="run `make setup` as root or set PODIUM_SOUNDFONT",
            )
        out = request.work_dir / "fluidsynth.wav"
        cmd = [
            "fluidsynth", "-n", "-i", "-q", "-g", "0.5", "-r", str(self.sample_rate),
            "-O", "float", "-T", "wav", "-F", str(out), str(font), str(midi),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not out.exists():
            raise BadOutput(f"fluidsynth failed: {(proc.stderr or proc.stdout).strip()[-200:]}")
        audio = read_audio(out)
        out.unlink()
        samples = audio.samples
        if audio.sample_rate != self.sample_rate:
            samples = resample(samples, audio.sample_rate, self.sample_rate)
        if samples.shape[1] == 1:
            samples = np.repeat(samples, 2, axis=1)
        return samples


ENGINE = ComposerEngine()
