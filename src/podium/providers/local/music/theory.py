"""Music vocabulary: keys, scales, moods, genres and General MIDI instruments.

A music prompt's free words (``mood: upbeat``, ``genre: lofi``, ``instruments: [piano, pad]``)
are read against these tables; unknown words fall back to a neutral choice instead of failing,
because a prompt is a wish, not a score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from podium.errors import InvalidInput

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PITCH_CLASS = {
    "c": 0, "b#": 0, "c#": 1, "db": 1, "d": 2, "d#": 3, "eb": 3, "e": 4, "fb": 4, "f": 5,
    "e#": 5, "f#": 6, "gb": 6, "g": 7, "g#": 8, "ab": 8, "a": 9, "a#": 10, "bb": 10, "b": 11,
    "cb": 11,
}  # fmt: skip
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}


@dataclass(frozen=True)
class Key:
    """A tonic and a mode (``major`` or ``minor``)."""

    tonic: int
    mode: str

    @property
    def name(self) -> str:
        """``"A minor"``."""
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def midi_name(self) -> str:
        """The key as a MIDI key-signature name (``"Am"``, ``"Eb"``)."""
        names = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
        minor_names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
        return f"{minor_names[self.tonic]}m" if self.mode == "minor" else names[self.tonic]

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the scale, tonic first."""
        return tuple((self.tonic + s) % 12 for s in SCALES[self.mode])

    def degree_pitch(self, degree: int, octave: int) -> int:
        """MIDI pitch of scale ``degree`` (0-based, may exceed 6) in ``octave`` (4 = middle C)."""
        steps = SCALES[self.mode]
        octave_shift, index = divmod(degree, 7)
        return 12 * (octave + 1 + octave_shift) + self.tonic + steps[index]


def parse_key(text: str | None, where: str) -> Key | None:
    """``"A minor"``, ``"Am"``, ``"F# major"``, ``"Bb"`` -> :class:`Key`; ``None`` for none."""
    if text is None or str(text).strip() == "":
        return None
    m = re.fullmatch(
        r"\s*([A-Ga-g])\s*([#b♯♭]?)\s*(maj(?:or)?|min(?:or)?|m)?\s*", str(text), re.IGNORECASE
    )
    if not m:
        raise InvalidInput(
            f"cannot read the key {text!r}",
            where=where,
            hint='write it like "A minor", "F# major" or "Bb"',
        )
    letter, accidental, mode = m.groups()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    tonic = _PITCH_CLASS[(letter + accidental.lower()).lower()]
    minor = bool(mode) and mode.lower().startswith("m") and not mode.lower().startswith("maj")
    return Key(tonic, "minor" if minor else "major")


@dataclass(frozen=True)
class Mood:
    """What a mood implies: tempo, mode, progressions (scale degrees), energy 0-1."""

    tempo_bpm: float
    mode: str
    progressions: tuple[tuple[int, ...], ...]
    energy: float
    sevenths: bool = False


MOODS: dict[str, Mood] = {
    "happy": Mood(120, "major", ((0, 4, 5, 3), (0, 3, 4, 3), (0, 5, 3, 4)), 0.7),
    "upbeat": Mood(124, "major", ((0, 4, 5, 3), (0, 3, 0, 4)), 0.8),
    "energetic": Mood(132, "major", ((0, 4, 5, 3), (5, 3, 0, 4)), 0.9),
    "calm": Mood(80, "major", ((0, 5, 3, 4), (0, 3, 5, 4)), 0.3, sevenths=True),
    "relaxed": Mood(86, "major", ((0, 3, 5, 4), (0, 2, 3, 4)), 0.35, sevenths=True),
    "warm": Mood(96, "major", ((0, 3, 0, 4), (0, 5, 3, 4)), 0.5, sevenths=True),
    "sad": Mood(70, "minor", ((0, 5, 2, 6), (0, 3, 5, 4)), 0.3),
    "melancholic": Mood(76, "minor", ((0, 5, 2, 6), (0, 5, 3, 4)), 0.35),
    "dramatic": Mood(100, "minor", ((0, 5, 6, 0), (0, 3, 5, 4)), 0.75),
    "epic": Mood(108, "minor", ((0, 5, 2, 6), (0, 5, 6, 4)), 0.85),
    "tense": Mood(112, "minor", ((0, 1, 0, 4), (0, 5, 4, 4)), 0.7),
    "mysterious": Mood(88, "minor", ((0, 5, 3, 4), (0, 6, 5, 4)), 0.45),
    "neutral": Mood(104, "major", ((0, 4, 5, 3),), 0.55),
}
_MOOD_WORDS = {
    "cheerful": "happy", "joyful": "happy", "bright": "happy", "fun": "happy", "playful": "happy",
    "fresh": "upbeat", "summer": "upbeat", "uplifting": "upbeat", "positive": "upbeat",
    "optimistic": "upbeat", "exciting": "energetic",
    "peaceful": "calm", "chill": "relaxed", "dreamy": "calm", "gentle": "calm", "cozy": "warm",
    "romantic": "warm", "dark": "mysterious", "somber": "sad", "heroic": "epic",
    "suspense": "tense", "inspiring": "epic", "corporate": "neutral",
}  # fmt: skip


def read_mood(text: str | None) -> tuple[str, Mood]:
    """The first mood word found in ``text`` (``"upbeat, sunny"`` -> upbeat)."""
    for word in re.findall(r"[a-z]+", str(text or "").lower()):
        name = _MOOD_WORDS.get(word, word)
        if name in MOODS:
            return name, MOODS[name]
    return "neutral", MOODS["neutral"]


# General MIDI programs (0-based) by instrument word.
INSTRUMENTS: dict[str, int] = {
    "piano": 0, "grand": 0, "keys": 4, "electric piano": 4, "rhodes": 4, "epiano": 4,
    "organ": 16, "guitar": 25, "acoustic guitar": 25, "nylon": 24, "electric guitar": 27,
    "strings": 48, "violin": 40, "cello": 42, "pad": 89, "synth pad": 89, "warm pad": 89,
    "choir": 52, "brass": 61, "trumpet": 56, "sax": 65, "saxophone": 65, "flute": 73,
    "whistle": 78, "synth": 81, "lead": 81, "synth lead": 81, "bells": 9, "glockenspiel": 9,
    "marimba": 12, "vibraphone": 11, "harp": 46, "ukulele": 24, "bass": 33,
    "electric bass": 33, "synth bass": 38, "upright bass": 32, "double bass": 32,
}  # fmt: skip
_BASS_WORDS = ("bass",)
_CHORD_WORDS = ("piano", "keys", "organ", "strings", "pad", "choir", "guitar", "harp", "rhodes")


@dataclass(frozen=True)
class Band:
    """GM programs for the three pitched parts and the drum style."""

    chords: int
    melody: int
    bass: int
    drums: str


GENRES: dict[str, Band] = {
    "pop": Band(chords=0, melody=81, bass=33, drums="pop"),
    "rock": Band(chords=29, melody=27, bass=34, drums="rock"),
    "electronic": Band(chords=89, melody=81, bass=38, drums="four"),
    "edm": Band(chords=89, melody=81, bass=38, drums="four"),
    "house": Band(chords=4, melody=81, bass=38, drums="four"),
    "lofi": Band(chords=4, melody=11, bass=33, drums="lofi"),
    "hiphop": Band(chords=4, melody=0, bass=38, drums="lofi"),
    "ambient": Band(chords=89, melody=9, bass=32, drums="soft"),
    "cinematic": Band(chords=48, melody=60, bass=42, drums="soft"),
    "orchestral": Band(chords=48, melody=73, bass=42, drums="soft"),
    "acoustic": Band(chords=25, melody=73, bass=32, drums="soft"),
    "folk": Band(chords=25, melody=73, bass=32, drums="soft"),
    "jazz": Band(chords=4, melody=65, bass=32, drums="soft"),
    "corporate": Band(chords=0, melody=11, bass=33, drums="pop"),
}


def read_band(genre: str | None, instruments: object) -> tuple[str, Band]:
    """Instruments for the genre, overridden by the ``instruments`` words that are known."""
    name = "pop"
    for word in re.findall(r"[a-z]+", str(genre or "").lower().replace("-", "")):
        if word in GENRES:
            name = word
            break
    band = GENRES[name]
    words = instruments if isinstance(instruments, list | tuple) else str(instruments or "")
    items = (
        [str(w).lower().strip() for w in words]
        if isinstance(words, list | tuple)
        else [w.strip() for w in re.split(r"[,;/]| and ", words.lower()) if w.strip()]
    )
    chords, melody, bass = band.chords, band.melody, band.bass
    used_chords = False
    for item in items:
        program = INSTRUMENTS.get(item)
        if program is None:
            program = next((p for k, p in INSTRUMENTS.items() if k in item), None)
        if program is None:
            continue
        if any(b in item for b in _BASS_WORDS):
            bass = program
        elif not used_chords and any(c in item for c in _CHORD_WORDS):
            chords, used_chords = program, True
        elif "drum" not in item:
            melody = program
    return name, Band(chords, melody, bass, band.drums)
