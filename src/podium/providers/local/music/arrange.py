"""Writing the four parts of a composition: chords, bass, melody and drums.

Everything random draws from one ``random.Random(seed)``, in a fixed order, so a seed gives the
same notes (and, rendered, the same bytes). Sections of the same name share their melody motif,
so a second chorus is recognisably the first one again: that is what makes it structure.
"""

from __future__ import annotations

import random

from podium.providers.local.music.composition import (
    BEATS_PER_BAR,
    DRUM_CHANNEL,
    Composition,
    Note,
    Part,
    Section,
    progression_for,
)
from podium.providers.local.music.theory import Key, Mood

KICK, SIDE, SNARE, CLAP, HAT, OPEN_HAT, CRASH, SHAKER, TOM_LO, TOM_HI = (
    36, 37, 38, 39, 42, 46, 49, 70, 45, 50,
)  # fmt: skip


def arrange(comp: Composition, mood: Mood, rng: random.Random) -> None:
    """Fill ``comp.parts`` with chords, melody, bass and drums."""
    band = comp.band
    chords = Part("chords", band.chords, 0)
    melody = Part("melody", band.melody, 1)
    bass = Part("bass", band.bass, 2)
    drums = Part("drums", 0, DRUM_CHANNEL)
    pick = rng.randrange(8)
    motifs: dict[str, list[tuple[float, float, int, int]]] = {}
    for section in comp.sections:
        degrees = progression_for(section.name, mood, pick)
        motif = motifs.setdefault(section.name, _motif(rng, mood.energy))
        for i in range(section.bars):
            bar = section.start_bar + i
            degree = degrees[i % len(degrees)]
            last = bar == comp.bars - 1 and not comp.loop
            if last:
                degree = 0
            _chord_bar(chords, comp.key, degree, bar, mood, last, rng)
            _bass_bar(bass, comp.key, degree, bar, mood.energy, last)
            if section.name not in ("intro",):
                _melody_bar(melody, comp.key, degree, bar, motif, i, section, last, rng)
            _drum_bar(drums, band.drums, bar, i, section, mood.energy, rng)
    comp.parts = [chords, melody, bass, drums]


def _vel(rng: random.Random, base: int, spread: int = 6) -> int:
    return max(1, min(127, base + rng.randint(-spread, spread)))


def _chord_pitches(key: Key, degree: int, sevenths: bool) -> list[int]:
    steps = (0, 2, 4, 6) if sevenths else (0, 2, 4)
    pitches = [key.degree_pitch(degree + s, 4) for s in steps]
    # keep voicings in the middle register so chord changes move little
    return [p - 12 if p > 74 else p for p in pitches]


def _chord_bar(
    part: Part, key: Key, degree: int, bar: int, mood: Mood, last: bool, rng: random.Random
) -> None:
    start = bar * BEATS_PER_BAR
    pitches = _chord_pitches(key, degree, mood.sevenths)
    if last or mood.energy < 0.4:
        hits = [(0.0, 4.0)]
    elif mood.energy < 0.75:
        hits = [(0.0, 2.0), (2.0, 2.0)]
    else:
        hits = [(0.0, 1.0), (1.0, 0.5), (1.5, 1.0), (2.5, 0.5), (3.0, 1.0)]
    base = 62 + int(mood.energy * 20)
    for onset, length in hits:
        v = _vel(rng, base)
        part.notes.extend(Note(start + onset, length * 0.95, p, v) for p in pitches)


def _bass_bar(part: Part, key: Key, degree: int, bar: int, energy: float, last: bool) -> None:
    start = bar * BEATS_PER_BAR
    root = key.degree_pitch(degree, 2)
    fifth = key.degree_pitch(degree + 4, 2)
    if last or energy < 0.4:
        pattern = [(0.0, 4.0, root)]
    elif energy < 0.75:
        pattern = [(0.0, 1.5, root), (1.5, 0.5, root), (2.0, 1.5, fifth), (3.5, 0.5, root)]
    else:
        pattern = [(i * 0.5, 0.45, root if i % 4 != 3 else fifth) for i in range(8)]
    for onset, length, pitch in pattern:
        part.notes.append(Note(start + onset, length, pitch, 88 if onset == 0 else 76))


_RHYTHMS = (
    [(0.0, 1.0), (1.0, 0.5), (1.5, 0.5), (2.0, 1.5), (3.5, 0.5)],
    [(0.0, 1.5), (1.5, 0.5), (2.0, 1.0), (3.0, 1.0)],
    [(0.0, 0.5), (0.5, 0.5), (1.0, 1.0), (2.5, 0.5), (3.0, 1.0)],
    [(0.0, 2.0), (2.0, 1.0), (3.0, 1.0)],
    [(0.5, 0.5), (1.0, 0.5), (1.5, 1.5), (3.0, 0.5), (3.5, 0.5)],
)


def _motif(rng: random.Random, energy: float) -> list[tuple[float, float, int, int]]:
    """Two bars of ``(onset, length, chord tone 0-2, step -1..1)``; calm moods sing slower."""
    choices = _RHYTHMS if energy >= 0.5 else (_RHYTHMS[1], _RHYTHMS[3])
    motif = []
    for half in (0, 1):
        for onset, length in rng.choice(choices):
            strong = onset in (0.0, 2.0)
            tone = rng.randrange(3)
            step = 0 if strong else rng.choice((-1, 0, 1))
            motif.append((half * BEATS_PER_BAR + onset, length, tone, step))
    return motif


def _melody_bar(
    part: Part,
    key: Key,
    degree: int,
    bar: int,
    motif: list[tuple[float, float, int, int]],
    index: int,
    section: Section,
    last: bool,
    rng: random.Random,
) -> None:
    start = bar * BEATS_PER_BAR
    octave = 5 if section.name in ("chorus", "drop", "main") else 4
    if last:
        part.notes.append(Note(start, 3.5, key.degree_pitch(0, octave), 80))
        return
    half = (index % 2) * BEATS_PER_BAR
    for onset, length, tone, step in motif:
        if not half <= onset < half + BEATS_PER_BAR:
            continue
        pitch = key.degree_pitch(degree + 2 * tone + step, octave)
        while pitch > 84:
            pitch -= 12
        v = _vel(rng, 84 if onset == half else 72)
        part.notes.append(Note(start + onset - half, length * 0.9, pitch, v))


def _drum_bar(
    part: Part,
    style: str,
    bar: int,
    index: int,
    section: Section,
    energy: float,
    rng: random.Random,
) -> None:
    start = bar * BEATS_PER_BAR
    hits: list[tuple[float, int, int]] = []
    eighths = [i * 0.5 for i in range(8)]
    if style == "soft":
        hits += [(t, SHAKER, 50 if t % 1 else 64) for t in eighths]
        if section.name != "intro":
            hits += [(0.0, KICK, 70), (2.0, SIDE, 60)]
    elif style == "four":
        hits += [(float(b), KICK, 104) for b in range(4)]
        hits += [(t, OPEN_HAT if t % 1 else HAT, 70) for t in eighths]
        if section.name != "intro":
            hits += [(1.0, CLAP, 92), (3.0, CLAP, 92)]
    else:
        swing = 0.08 if style == "lofi" else 0.0
        hits += [(t + (swing if t % 1 else 0.0), HAT, 74 if t % 1 == 0 else 58) for t in eighths]
        if section.name != "intro":
            kicks = [0.0, 2.5] if style == "lofi" else [0.0, 2.0]
            if style == "rock":
                kicks = [0.0, 1.5, 2.0]
            hits += [(k, KICK, 100) for k in kicks]
            hits += [(1.0, SNARE, 96 if style != "lofi" else 76), (3.0, SNARE, 96)]
    if index == 0 and section.start_bar > 0 and section.name != "outro":
        hits.append((0.0, CRASH, 96))
    if index == section.bars - 1 and section.bars > 1 and energy >= 0.5 and style != "soft":
        hits = [h for h in hits if h[0] < 3.0]
        hits += [(3.0, SNARE, 90), (3.25, TOM_HI, 84), (3.5, TOM_LO, 88), (3.75, SNARE, 96)]
    for onset, pitch, velocity in sorted(hits):
        part.notes.append(Note(start + onset, 0.25, pitch, _vel(rng, velocity, 5)))
