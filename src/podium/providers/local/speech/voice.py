"""The streaming speech loop shared by the offline voices (Piper, espeak-ng).

A :class:`SpeechEngine` only says how to turn one chunk of text into samples; this module plans
the chunks, synthesises them one by one, writes each chunk (with the pause that follows it) as a
WAV and reports it as a ``partial`` event before starting the next, then writes the whole voice
as the exact concatenation of those chunks, plus SRT and WebVTT subtitles from the timings.
"""

from __future__ import annotations

import abc
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from podium.catalog.card import ModelCard
from podium.errors import InvalidInput
from podium.media.audio import to_int16, write_wav
from podium.media.loudness import measure_loudness
from podium.media.subtitles import TimedWord, cues_from_sentences, write_subtitles
from podium.providers.base import Event, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.providers.local.speech.text import Chunk, count_words, plan_chunks
from podium.spec.vocabulary import ArtifactType

# emotion -> (rate factor, expressiveness factor, pitch shift in semitones)
EMOTIONS: dict[str, tuple[float, float, float]] = {
    "neutral": (1.0, 1.0, 0.0),
    "calm": (0.92, 0.8, -1.0),
    "warm": (0.96, 1.0, 0.0),
    "serious": (0.95, 0.85, -1.5),
    "sad": (0.88, 0.8, -2.0),
    "happy": (1.05, 1.15, 1.5),
    "cheerful": (1.06, 1.15, 2.0),
    "excited": (1.1, 1.25, 3.0),
    "energetic": (1.1, 1.2, 2.0),
}
_NAMED_RATES = {"x-slow": 0.7, "slow": 0.85, "medium": 1.0, "normal": 1.0, "fast": 1.15}


@dataclass(frozen=True)
class VoiceOptions:
    """How to speak.

    Attributes:
        voice: the voice name (engine-specific; ``None`` = the card's default).
        rate: speaking-rate factor (1.0 normal, 1.2 = 20 % faster).
        expressiveness: variation factor (Piper's noise scales; 1.0 = the voice's own).
        pitch_semitones: pitch shift where the engine supports it.
        emotion: the emotion asked for, as given.
        sentence_pause_s: silence after a sentence.
        clause_pause_s: silence after a clause (``,;:``).
        phrase_pause_s: silence after a chunk cut mid-clause for a fast start.
        seed: makes synthesis repeatable where the engine has randomness.
    """

    voice: str | None = None
    rate: float = 1.0
    expressiveness: float = 1.0
    pitch_semitones: float = 0.0
    emotion: str = "neutral"
    sentence_pause_s: float = 0.3
    clause_pause_s: float = 0.12
    phrase_pause_s: float = 0.0
    seed: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Spoken:
    """Samples for one chunk and, when the engine knows them, word timings within it."""

    samples: np.ndarray
    words: list[tuple[str, float, float]] | None = None


def parse_rate(value: Any, where: str) -> float:
    """A speaking rate from ``1.1``, ``"1.1"``, ``"+10%"``, ``"110%"`` or ``"fast"``."""
    if value is None or value == "":
        return 1.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        rate = float(value)
    else:
        text = str(value).strip().lower()
        try:
            if text in _NAMED_RATES:
                rate = _NAMED_RATES[text]
            elif text.endswith("%"):
                num = float(text[:-1])
                rate = 1.0 + num / 100.0 if text[0] in "+-" else num / 100.0
            else:
                rate = float(text.rstrip("x"))
        except ValueError:
            rate = -1.0
    if not 0.5 <= rate <= 2.0:
        raise InvalidInput(
            f"speaking rate {value!r} is out of range",
            where=where,
            hint="use a factor from 0.5 to 2.0 (1.0 is normal), a percentage or slow/fast",
        )
    return rate


def voice_options(request: Request) -> VoiceOptions:
    """The :class:`VoiceOptions` of a text-to-speech request (prompt fields, then params)."""
    where = f"step {request.step_id}"
    emotion = str(request.field("emotion") or "neutral").strip().lower()
    rate_f, expr_f, pitch = EMOTIONS.get(emotion, (1.0, 1.0, 0.0))
    params = request.params
    return VoiceOptions(
        voice=request.field("voice"),
        rate=parse_rate(request.field("rate"), where) * rate_f,
        expressiveness=expr_f * float(params.get("expressiveness", 1.0)),
        pitch_semitones=pitch + float(params.get("pitch_semitones", 0.0)),
        emotion=emotion,
        sentence_pause_s=float(params.get("sentence_pause_s", 0.3)),
        clause_pause_s=float(params.get("clause_pause_s", 0.12)),
        phrase_pause_s=float(params.get("phrase_pause_s", 0.0)),
        seed=int(request.seed or 0),
        extra=dict(params),
    )


def speech_text(request: Request) -> str:
    """The words to speak: the ``text`` field, or the whole prompt when it is a string."""
    text = request.field("text")
    if text is None and isinstance(request.prompt, str):
        text = request.prompt
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    if not text:
        raise InvalidInput(
            "nothing to say: the speech text is empty",
            where=f"step {request.step_id}",
            hint="give the step `prompt: {text: ...}`",
        )
    limit = request.card.limits.max_chars
    if limit is not None and len(text) > limit:
        raise InvalidInput(
            f"the text has {len(text)} characters; {request.card.id} takes at most {limit}",
            where=f"step {request.step_id}",
            hint="split the script over several steps",
        )
    return text


def _pause(chunk: Chunk, options: VoiceOptions) -> float:
    if chunk.ends_sentence:
        return options.sentence_pause_s
    if chunk.text[-1:] in ",;:—–-":
        return options.clause_pause_s
    return options.phrase_pause_s


class SpeechEngine(Engine):
    """A streaming offline voice; subclasses implement :meth:`speak`."""

    @abc.abstractmethod
    def sample_rate(self, card: ModelCard, options: VoiceOptions) -> int:
        """The rate of the samples :meth:`speak` returns."""

    @abc.abstractmethod
    def speak(self, card: ModelCard, text: str, options: VoiceOptions) -> Spoken:
        """Samples (float32, mono, at :meth:`sample_rate`) for one chunk of text."""

    def prepare(self, card: ModelCard, options: VoiceOptions) -> dict[str, Any]:
        """Load what :meth:`speak` needs (kept warm); returns facts for the metadata."""
        return {}

    def run(self, request: Request, report: Reporter) -> Result:
        """Speak the request's text, streaming each chunk as a ``partial`` event."""
        t0 = time.perf_counter()
        text = speech_text(request)
        options = voice_options(request)
        facts = self.prepare(request.card, options)
        load_s = time.perf_counter() - t0
        rate = self.sample_rate(request.card, options)
        chunk_dir = request.work_dir / "chunks"
        chunk_dir.mkdir(parents=True, exist_ok=True)
        pieces: list[np.ndarray] = []
        sentences: dict[int, list[Any]] = {}
        words: list[TimedWord] = []
        ttfa_ms: float | None = None
        position = 0
        for i, chunk in enumerate(plan_chunks(text)):
            spoken = self.speak(request.card, chunk.text, options)
            audio = to_int16(np.asarray(spoken.samples, dtype=np.float32).reshape(-1))
            start_s, end_s = position / rate, (position + audio.size) / rate
            silence = np.zeros(round(_pause(chunk, options) * rate), dtype=np.int16)
            piece = np.concatenate([audio, silence])
            path = write_wav(chunk_dir / f"chunk-{i:03d}.wav", piece, rate)
            t_ms = (time.perf_counter() - t0) * 1000.0
            ttfa_ms = t_ms if ttfa_ms is None else ttfa_ms
            report(
                Event(
                    kind="partial",
                    path=path,
                    message=chunk.text,
                    data={
                        "index": i,
                        "t_ms": round(t_ms, 1),
                        "start_s": start_s,
                        "text": chunk.text,
                    },
                )
            )
            entry = sentences.setdefault(chunk.sentence, [chunk.text, start_s, end_s])
            if entry[1] != start_s:
                entry[0] = f"{entry[0]} {chunk.text}"
                entry[2] = end_s
            words.extend(_timed_words(chunk.text, spoken, start_s, end_s))
            pieces.append(piece)
            position += piece.size
        whole = np.concatenate(pieces)
        wall_s = time.perf_counter() - t0
        return self._outputs(request, whole, rate, sentences, words, facts, ttfa_ms, wall_s, load_s)

    def _outputs(
        self,
        request: Request,
        whole: np.ndarray,
        rate: int,
        sentences: dict[int, list[Any]],
        words: list[TimedWord],
        facts: dict[str, Any],
        ttfa_ms: float | None,
        wall_s: float,
        load_s: float,
    ) -> Result:
        work = request.work_dir
        wav = write_wav(work / "voice.wav", whole, rate)
        duration = whole.size / rate
        timed = [(str(t), float(a), float(b)) for t, a, b in sentences.values()]
        cues = cues_from_sentences(timed, words)
        srt, vtt = work / "voice.srt", work / "voice.vtt"
        write_subtitles(cues, srt, vtt)
        sentence_meta = [
            {"text": t, "start_s": round(a, 3), "end_s": round(b, 3)} for t, a, b in timed
        ]
        audio_meta: dict[str, Any] = {
            "duration_s": round(duration, 4),
            "sample_rate": rate,
            "channels": 1,
            "words": count_words(" ".join(t for t, _, _ in timed)),
            "sentences": sentence_meta,
            "word_timings": [
                {"word": w.word, "start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3)}
                for w in words
            ],
            "ttfa_ms": round(ttfa_ms or 0.0, 1),
            "rtf": round(wall_s / duration, 4) if duration else None,
            **facts,
            **measure_loudness(wav).metadata(),
        }
        sub_meta = {
            "format": "srt",
            "cues": len(cues),
            "webvtt_path": str(vtt),
            "duration_s": duration,
        }
        outputs: list[OutputFile] = []
        for kind in request.outputs or (ArtifactType.AUDIO, ArtifactType.SUBTITLES):
            if kind == ArtifactType.AUDIO:
                outputs.append(OutputFile(ArtifactType.AUDIO, wav, audio_meta))
            elif kind == ArtifactType.SUBTITLES:
                outputs.append(OutputFile(ArtifactType.SUBTITLES, srt, sub_meta))
            else:
                raise InvalidInput(
                    f"{request.card.id} cannot produce {kind.value}",
                    where=f"step {request.step_id}",
                    hint="text-to-speech outputs audio and subtitles",
                )
        return Result(
            outputs=outputs, metadata={"ttfa_ms": audio_meta["ttfa_ms"], "load_s": load_s}
        )


def _timed_words(text: str, spoken: Spoken, start_s: float, end_s: float) -> list[TimedWord]:
    """Word timings of a chunk: the engine's when given, else spread by word length."""
    if spoken.words:
        return [TimedWord(w, start_s + a, start_s + b) for w, a, b in spoken.words]
    tokens = text.split()
    total = sum(len(t) for t in tokens) or 1
    out, t = [], start_s
    for token in tokens:
        dt = (end_s - start_s) * len(token) / total
        out.append(TimedWord(token, t, t + dt))
        t += dt
    return out
