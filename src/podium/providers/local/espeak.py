"""``local/espeak``: the always-available classic voice (espeak-ng), the fallback of Piper.

Formant synthesis: robotic but intelligible, instant, with no model to load. It shares Piper's
streaming loop (chunks reported as they are made, sentence timings, SRT and WebVTT subtitles).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from podium.catalog.card import ModelCard
from podium.errors import BadOutput, Unavailable
from podium.media.audio import read_audio, resample
from podium.providers.local.speech.voice import SpeechEngine, Spoken, VoiceOptions

_BASE_WPM = 165
_BASE_PITCH = 50


class EspeakEngine(SpeechEngine):
    """espeak-ng through its command-line program, one call per chunk."""

    name = "espeak"

    def _exe(self) -> str:
        exe = shutil.which("espeak-ng") or shutil.which("espeak")
        if exe is None:
            raise Unavailable(
                "espeak-ng is not installed", hint="run `make setup` as root (Debian espeak-ng)"
            )
        return exe

    def check(self, card: ModelCard) -> str | None:
        """Why espeak-ng cannot run: the program is missing."""
        try:
            self._exe()
        except Unavailable as exc:
            return f"{exc.message} ({exc.hint})"
        return None

    def prepare(self, card: ModelCard, options: VoiceOptions) -> dict[str, Any]:
        """Nothing to load; say which voice speaks."""
        return {"voice": self._voice(card, options), "engine": "espeak-ng"}

    def _voice(self, card: ModelCard, options: VoiceOptions) -> str:
        voice = options.voice or card.extra.get("default_voice", "en-us")
        # a Piper voice name means nothing to espeak: speak American English instead
        return str(voice) if "-" in str(voice) or len(str(voice)) <= 3 else "en-us"

    def sample_rate(self, card: ModelCard, options: VoiceOptions) -> int:
        """The card's rate (espeak-ng makes 22050 Hz)."""
        rates = card.limits.sample_rates
        return int(rates[0]) if rates else 22050

    def speak(self, card: ModelCard, text: str, options: VoiceOptions) -> Spoken:
        """One chunk: ``espeak-ng -w`` into a temporary WAV, read back as floats."""
        wpm = max(80, min(450, round(_BASE_WPM * options.rate)))
        pitch = max(0, min(99, round(_BASE_PITCH + 4 * options.pitch_semitones)))
        with tempfile.TemporaryDirectory(prefix="podium-espeak-") as tmp:
            out = Path(tmp) / "chunk.wav"
            cmd = [self._exe(), "-v", self._voice(card, options), "-s", str(wpm), "-p", str(pitch)]
            proc = subprocess.run(
                [*cmd, "-w", str(out), "--", text], capture_output=True, text=True, timeout=120
            )
            if proc.returncode != 0 or not out.exists():
                raise BadOutput(f"espeak-ng failed: {proc.stderr.strip()[-200:]}")
            audio = read_audio(out)
        samples = audio.mono()
        rate = self.sample_rate(card, options)
        samples = resample(samples, audio.sample_rate, rate)
        return Spoken(samples=np.asarray(samples, dtype=np.float32) * 0.9)


ENGINE = EspeakEngine()
