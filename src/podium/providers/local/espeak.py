"""``local/espeak``: the always-available classic voice (espeak-ng), the fallback of Piper.

Formant synthesis: robotic but intelligible, instant, with no model to load. It runs the
``espeak-ng`` program (Debian) when there is one, else the library shipped in the
``espeakng-loader`` wheel, so it is there even where set-up could not install system packages.
It shares Piper's streaming loop (chunks reported as they are made, sentence timings, SRT and
WebVTT subtitles).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from podium.catalog.card import ModelCard
from podium.errors import BadOutput
from podium.media.audio import read_audio, resample
from podium.providers.local.speech import espeak_lib
from podium.providers.local.speech.voice import SpeechEngine, Spoken, VoiceOptions

_BASE_WPM = 165
_BASE_PITCH = 50


class EspeakEngine(SpeechEngine):
    """espeak-ng through its command-line program, one call per chunk."""

    name = "espeak"

    def check(self, card: ModelCard) -> str | None:
        """Why espeak-ng cannot run: neither the program nor the wheel's library is there."""
        if self._program() is None and not espeak_lib.available():
            return (
                "espeak-ng is not installed: neither the program (Debian espeak-ng, "
                "`make setup` as root) nor the espeakng-loader wheel"
            )
        return None

    def _program(self) -> str | None:
        return shutil.which("espeak-ng") or shutil.which("espeak")

    def prepare(self, card: ModelCard, options: VoiceOptions) -> dict[str, Any]:
        """Nothing to load; say which voice speaks and through what."""
        backend = "program" if self._program() else "library"
        return {"voice": self._voice(card, options), "engine": "espeak-ng", "backend": backend}

    def _voice(self, card: ModelCard, options: VoiceOptions) -> str:
        voice = str(options.voice or card.extra.get("default_voice", "en-us"))
        # another engine's voice name ("joe") means nothing to espeak: speak American English
        return voice if voice.lower() in known_voices() else "en-us"

    def sample_rate(self, card: ModelCard, options: VoiceOptions) -> int:
        """The card's rate (espeak-ng makes 22050 Hz)."""
        rates = card.limits.sample_rates
        return int(rates[0]) if rates else 22050

    def speak(self, card: ModelCard, text: str, options: VoiceOptions) -> Spoken:
        """One chunk: ``espeak-ng -w`` into a temporary WAV (or the library), as floats."""
        wpm = max(80, min(450, round(_BASE_WPM * options.rate)))
        pitch = max(0, min(99, round(_BASE_PITCH + 4 * options.pitch_semitones)))
        voice = self._voice(card, options)
        program = self._program()
        if program is None:
            samples, got = espeak_lib.synthesize(text, voice, wpm, pitch)
        else:
            samples, got = _run_program(program, text, voice, wpm, pitch)
        rate = self.sample_rate(card, options)
        return Spoken(samples=np.asarray(resample(samples, got, rate), dtype=np.float32) * 0.9)


@functools.cache
def known_voices() -> frozenset[str]:
    """Voice names espeak-ng knows, from its data directory (``lang/<family>/<name>``)."""
    roots = [
        Path(p) for p in ("/usr/lib/x86_64-linux-gnu/espeak-ng-data", "/usr/share/espeak-ng-data")
    ]
    try:
        import espeakng_loader

        roots.append(Path(espeakng_loader.get_data_path()))
    except (ImportError, AttributeError):
        pass
    names = {"en-us"}
    for root in roots:
        lang = root / "lang"
        if lang.is_dir():
            names.update(p.name.lower() for p in lang.rglob("*") if p.is_file())
    return frozenset(names)


def _run_program(program: str, text: str, voice: str, wpm: int, pitch: int) -> tuple[Any, int]:
    with tempfile.TemporaryDirectory(prefix="podium-espeak-") as tmp:
        out = Path(tmp) / "chunk.wav"
        cmd = [program, "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(out), "--", text]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or not out.exists():
            raise BadOutput(f"espeak-ng failed: {proc.stderr.strip()[-200:]}")
        audio = read_audio(out)
    return audio.mono(), audio.sample_rate


ENGINE = EspeakEngine()
