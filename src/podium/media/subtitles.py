"""Subtitles: timed cues written as SRT and WebVTT, and read back.

Cues come from a voice step's sentence timings (word timings when the engine gives them split
long sentences into readable cues of at most ``max_chars`` characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from podium.errors import BadOutput


@dataclass(frozen=True)
class Cue:
    """One subtitle: text shown from ``start_s`` to ``end_s``."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class TimedWord:
    """One spoken word and when it is heard."""

    word: str
    start_s: float
    end_s: float


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Iterable[Cue]) -> str:
    """Cues as SRT text."""
    blocks = [
        f"{i}\n{_stamp(c.start_s, ',')} --> {_stamp(c.end_s, ',')}\n{c.text}\n"
        for i, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def to_webvtt(cues: Iterable[Cue]) -> str:
    """Cues as WebVTT text."""
    blocks = [f"{_stamp(c.start_s, '.')} --> {_stamp(c.end_s, '.')}\n{c.text}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def write_subtitles(cues: Sequence[Cue], srt: Path | None, vtt: Path | None) -> None:
    """Write the cues as SRT and/or WebVTT files (UTF-8)."""
    if srt is not None:
        srt.write_text(to_srt(cues), encoding="utf-8")
    if vtt is not None:
        vtt.write_text(to_webvtt(cues), encoding="utf-8")


_TIMING = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{3})\s*-->\s*(\d+):(\d{2}):(\d{2})[,.](\d{3})")


def read_subtitles(path: str | Path) -> list[Cue]:
    """Parse an SRT or WebVTT file into cues.

    Raises:
        BadOutput: no cue could be read.
    """
    text = Path(path).read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            m = _TIMING.search(line)
            if m:
                g = [int(x) for x in m.groups()]
                start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
                end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
                cues.append(Cue(start, end, "\n".join(lines[i + 1 :]).strip()))
                break
    if not cues:
        raise BadOutput(f"{Path(path).name} holds no subtitle cues")
    return cues


def cues_from_sentences(
    sentences: Sequence[tuple[str, float, float]],
    words: Sequence[TimedWord] = (),
    *,
    max_chars: int = 84,
) -> list[Cue]:
    """Cues for spoken sentences; long sentences are split at word timings when known.

    Args:
        sentences: ``(text, start_s, end_s)`` per sentence, in order.
        words: word timings covering the same speech (optional).
        max_chars: the longest cue (two lines of 42 characters).
    """
    cues: list[Cue] = []
    for text, start, end in sentences:
        if len(text) <= max_chars:
            cues.append(Cue(start, end, text))
            continue
        inside = [w for w in words if start - 0.01 <= w.start_s < end]
        if inside:
            cues.extend(_split_by_words(inside, max_chars, end))
        else:
            cues.extend(_split_evenly(text, start, end, max_chars))
    return cues


def _split_by_words(words: Sequence[TimedWord], max_chars: int, end: float) -> list[Cue]:
    """Cut before ``max_chars``, at the last clause end (``,;:``) when one is far enough in."""
    cues: list[Cue] = []
    group: list[TimedWord] = []
    for w in words:
        if group and len(" ".join(x.word for x in [*group, w])) > max_chars:
            cut = len(group)
            for i in range(len(group) - 1, 0, -1):
                if group[i - 1].word[-1:] in ",;:—" and len(_text(group[:i])) >= max_chars // 3:
                    cut = i
                    break
            head, group = group[:cut], group[cut:]
            cues.append(Cue(head[0].start_s, group[0].start_s if group else w.start_s, _text(head)))
        group.append(w)
    if group:
        cues.append(Cue(group[0].start_s, end, _text(group)))
    return cues


def _text(words: Sequence[TimedWord]) -> str:
    return " ".join(w.word for w in words)


def _split_evenly(text: str, start: float, end: float, max_chars: int) -> list[Cue]:
    parts: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > max_chars:
            parts.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        parts.append(current)
    total = sum(len(p) for p in parts) or 1
    cues, t = [], start
    for part in parts:
        dt = (end - start) * len(part) / total
        cues.append(Cue(t, t + dt, part))
        t += dt
    return cues
