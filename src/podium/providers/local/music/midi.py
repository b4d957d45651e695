"""A composition as a Standard MIDI File: one track per part, section markers, tempo and key.

Track 0 holds the tempo, the time and key signatures and one marker per section; then come the
``chords``, ``melody``, ``bass`` and ``drums`` tracks (drums on channel 10), each named after its
part. Events are ordered deterministically (note-offs before note-ons at the same tick), so the
same composition gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import mido

from podium.providers.local.music.composition import BEATS_PER_BAR, Composition, Part

TICKS_PER_BEAT = 480


def _ticks(beats: float) -> int:
    return round(beats * TICKS_PER_BEAT)


def _track(messages: list[tuple[int, int, mido.Message | mido.MetaMessage]]) -> mido.MidiTrack:
    track = mido.MidiTrack()
    now = 0
    for tick, _, msg in sorted(messages, key=lambda m: (m[0], m[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def _part_track(part: Part, end_tick: int) -> mido.MidiTrack:
    ch = part.channel
    msgs: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name=part.name)),
    ]
    if ch != 9:
        msgs.append((0, 1, mido.Message("program_change", channel=ch, program=part.program)))
    for n in part.notes:
        on, off = _ticks(n.start), max(_ticks(n.start) + 1, _ticks(n.start + n.length))
        # order within a tick: offs (2) before ons (3), then by pitch
        msgs.append((off, 2 * 1000 + n.pitch, mido.Message("note_off", channel=ch, note=n.pitch)))
        msgs.append(
            (
                on,
                3 * 1000 + n.pitch,
                mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity),
            )
        )
    msgs.append(
        (
            max(end_tick, max((m[0] for m in msgs), default=0)),
            9999,
            mido.MetaMessage("end_of_track"),
        )
    )
    return _track(msgs)


def write_midi(comp: Composition, path: Path) -> Path:
    """Write ``comp`` as a type-1 MIDI file at ``path``."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    end = _ticks(comp.bars * BEATS_PER_BAR)
    meta: list[tuple[int, int, mido.Message | mido.MetaMessage]] = [
        (0, 0, mido.MetaMessage("track_name", name="podium")),
        (0, 1, mido.MetaMessage("set_tempo", tempo=round(60_000_000 / comp.tempo_bpm))),
        (0, 2, mido.MetaMessage("time_signature", numerator=BEATS_PER_BAR, denominator=4)),
        (0, 3, mido.MetaMessage("key_signature", key=comp.key.midi_name)),
    ]
    for i, s in enumerate(comp.sections):
        meta.append(
            (_ticks(s.start_bar * BEATS_PER_BAR), 10 + i, mido.MetaMessage("marker", text=s.name))
        )
    meta.append((end, 9999, mido.MetaMessage("end_of_track")))
    mid.tracks.append(_track(meta))
    for part in comp.parts:
        mid.tracks.append(_part_track(part, end))
    mid.save(str(path))
    return path
