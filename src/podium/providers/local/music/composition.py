"""The composition: what the music engines render, and how a music prompt sizes it.

Time is in beats (4/4). A composition has a tempo, a key, sections aligned to bars, and four
parts (chords, melody, bass, drums) of notes. The tempo and bar count are chosen so the music
lasts exactly the duration asked for: when the prompt leaves the tempo free (or asks for a loop)
the tempo is nudged so a whole number of bars fits; a fixed tempo keeps its value and the last
bar is cut with a fade.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from podium.errors import InvalidInput
from podium.providers.local.music.theory import Band, Key, Mood

BEATS_PER_BAR = 4
DRUM_CHANNEL = 9


@dataclass(frozen=True)
class Note:
    """One note: when (beats), how long (beats), which MIDI pitch, how hard (1-127)."""

    start: float
    length: float
    pitch: int
    velocity: int


@dataclass
class Part:
    """One instrument's notes: ``chords``, ``melody``, ``bass`` or ``drums``."""

    name: str
    program: int
    channel: int
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    """A named stretch of whole bars (``intro``, ``verse``, ``chorus`` ...)."""

    name: str
    start_bar: int
    bars: int


@dataclass
class Composition:
    """Everything needed to render and describe one piece."""

    tempo_bpm: float
    key: Key
    mood: str
    genre: str
    band: Band
    bars: int
    duration_s: float
    loop: bool
    sections: list[Section]
    parts: list[Part] = field(default_factory=list)

    @property
    def bar_s(self) -> float:
        """Seconds per bar."""
        return BEATS_PER_BAR * 60.0 / self.tempo_bpm

    @property
    def music_s(self) -> float:
        """Seconds of whole bars (may exceed ``duration_s`` by part of a bar)."""
        return self.bars * self.bar_s

    def seconds(self, beats: float) -> float:
        """Beats as seconds at this tempo."""
        return beats * 60.0 / self.tempo_bpm

    def markers(self) -> list[dict[str, Any]]:
        """Section starts as ``{name, bar, time_s}`` (``bar`` counts from 0)."""
        return [
            {"name": s.name, "bar": s.start_bar, "time_s": round(s.start_bar * self.bar_s, 6)}
            for s in self.sections
            if s.start_bar * self.bar_s < self.duration_s
        ]

    def part(self, name: str) -> Part:
        """The part named ``name``."""
        return next(p for p in self.parts if p.name == name)


def number(value: Any, name: str, where: str, *, low: float, high: float) -> float | None:
    """A positive number from a float, int or string such as ``"12.3"`` or ``"12.3s"``."""
    if value is None or value == "":
        return None
    try:
        num = float(value) if not isinstance(value, str) else float(re.sub(r"[^\d.]", "", value))
    except ValueError:
        num = float("nan")
    if not low <= num <= high:
        raise InvalidInput(
            f"{name} {value!r} is not a number from {low:g} to {high:g}",
            where=where,
            hint=f"give {name} as a number, e.g. {name}: {low * 4:g}",
        )
    return num


def fit_tempo(duration_s: float, tempo: float, *, fixed: bool, loop: bool) -> tuple[float, int]:
    """The tempo and number of bars for ``duration_s``.

    A free tempo (or a loop) moves by at most 15 % so whole bars fill the duration exactly;
    otherwise the bar count is the nearest and the music is cut at ``duration_s``.
    """
    bar_s = BEATS_PER_BAR * 60.0 / tempo
    covering = max(1, math.ceil(duration_s / bar_s - 1e-6))
    if fixed and not loop:
        return tempo, covering
    bars = max(1, round(duration_s / bar_s))
    exact = BEATS_PER_BAR * 60.0 * bars / duration_s
    if loop or abs(exact / tempo - 1.0) <= 0.15:
        return exact, bars
    return tempo, covering


_WEIGHT = {"intro": 1.0, "outro": 1.0, "bridge": 1.0, "break": 1.0, "verse": 2.0, "chorus": 2.0}


def read_structure(value: Any, bars: int) -> list[Section]:
    """Sections from ``structure`` (names, ``{name, bars}`` items or a string), sized to
    ``bars`` whole bars in proportion to their weight (intro/outro short, verse/chorus long)."""
    names: list[str] = []
    wanted: list[float] = []
    items = re.split(r"[\s,>/|-]+", value.strip()) if isinstance(value, str) else value
    for item in items or []:
        if isinstance(item, dict):
            name = str(item.get("name", "section"))
            size = float(item.get("bars") or _WEIGHT.get(name, 2.0))
        else:
            name = str(item)
            size = _WEIGHT.get(name.lower(), 2.0)
        if name.strip():
            names.append(name.strip().lower())
            wanted.append(size)
    if not names:
        names = _default_structure(bars)
        wanted = [_WEIGHT.get(n, 2.0) for n in names]
    while len(names) > bars:  # fewer bars than sections: keep the ends, drop the middle
        del names[len(names) // 2], wanted[len(wanted) // 2]
    total = sum(wanted)
    raw = [w * bars / total for w in wanted]
    sizes = [max(1, int(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    k = 0
    while sum(sizes) < bars:
        sizes[order[k % len(order)]] += 1
        k += 1
    while sum(sizes) > bars:
        biggest = max(range(len(sizes)), key=lambda i: sizes[i])
        sizes[biggest] -= 1
    sections, start = [], 0
    for name, size in zip(names, sizes, strict=True):
        sections.append(Section(name, start, size))
        start += size
    return sections


def _default_structure(bars: int) -> list[str]:
    if bars <= 4:
        return ["main"]
    if bars <= 8:
        return ["intro", "chorus", "outro"]
    if bars < 24:
        return ["intro", "verse", "chorus", "outro"]
    return ["intro", "verse", "chorus", "verse", "chorus", "outro"]


def progression_for(section: str, mood: Mood, pick: int) -> tuple[int, ...]:
    """The chord degrees a section cycles through (choruses and verses differ)."""
    options = mood.progressions
    if section in ("chorus", "main", "drop"):
        return options[pick % len(options)]
    return options[(pick + 1) % len(options)]
