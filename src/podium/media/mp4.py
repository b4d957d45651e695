"""A small reader of MP4 box structure: faststart and per-track timing, read from the file itself.

Only what delivery checks need: the order of top-level boxes (``moov`` before ``mdat`` means the
file starts playing before it has fully downloaded) and, per track, its handler (``vide``/``soun``),
media duration and edit-list start offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_CONTAINERS = {b"moov", b"trak", b"mdia", b"edts", b"minf"}


@dataclass
class Track:
    """One track's timing.

    Attributes:
        handler: ``vide``, ``soun`` ...
        timescale: ticks per second.
        duration_s: media duration.
        start_s: presentation start from the edit list (media time of the first edit).
        empty_s: empty edit (delay) before the track starts.
    """

    handler: str = ""
    timescale: int = 0
    duration_s: float = 0.0
    start_s: float = 0.0
    empty_s: float = 0.0


@dataclass
class Mp4Layout:
    """Top-level box order and tracks of an MP4 file."""

    top_level: list[str]
    tracks: list[Track]

    @property
    def faststart(self) -> bool:
        """``moov`` comes before ``mdat``."""
        if "moov" not in self.top_level or "mdat" not in self.top_level:
            return False
        return self.top_level.index("moov") < self.top_level.index("mdat")

    def track(self, handler: str) -> Track | None:
        """The first track with this handler."""
        return next((t for t in self.tracks if t.handler == handler), None)


def _boxes(f: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes between ``start`` and ``end``."""
    out = []
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header)
        payload = pos + 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            payload = pos + 16
        elif size == 0:
            size = end - pos
        if size < 8:
            break
        out.append((kind, payload, pos + size))
        pos += size
    return out


def _parse_trak(f: BinaryIO, start: int, end: int, track: Track) -> None:
    for kind, payload, box_end in _boxes(f, start, end):
        if kind in _CONTAINERS:
            _parse_trak(f, payload, box_end, track)
        elif kind == b"hdlr":
            f.seek(payload + 8)
            track.handler = f.read(4).decode("latin-1")
        elif kind == b"mdhd":
            f.seek(payload)
            version = f.read(1)[0]
            f.seek(payload + 4)
            if version == 1:
                _, _, timescale, duration = struct.unpack(">QQIQ", f.read(28))
            else:
                _, _, timescale, duration = struct.unpack(">IIII", f.read(16))
            track.timescale = timescale
            track.duration_s = duration / timescale if timescale else 0.0
        elif kind == b"elst":
            _parse_elst(f, payload, track)


def _parse_elst(f: BinaryIO, payload: int, track: Track) -> None:
    f.seek(payload)
    version = f.read(1)[0]
    f.seek(payload + 4)
    (count,) = struct.unpack(">I", f.read(4))
    fmt, size = (">qqhh", 20) if version == 1 else (">iihh", 12)
    for _ in range(count):
        _seg, media_time, _, _ = struct.unpack(fmt, f.read(size))
        if media_time == -1:
            track.empty_s += _seg  # movie timescale; converted by the caller
        else:
            track.start_s = media_time
            break


def read_layout(path: str | Path) -> Mp4Layout:
    """Read the box layout and track timing of an MP4 file."""
    p = Path(path)
    size = p.stat().st_size
    with p.open("rb") as f:
        top = _boxes(f, 0, size)
        tracks: list[Track] = []
        movie_timescale = 1000
        for kind, payload, box_end in top:
            if kind != b"moov":
                continue
            for sub, sp, se in _boxes(f, payload, box_end):
                if sub == b"mvhd":
                    f.seek(sp)
                    version = f.read(1)[0]
                    f.seek(sp + (20 if version == 1 else 12))
                    (movie_timescale,) = struct.unpack(">I", f.read(4))
                elif sub == b"trak":
                    track = Track()
                    _parse_trak(f, sp, se, track)
                    tracks.append(track)
    for t in tracks:
        if t.timescale:
            t.start_s = t.start_s / t.timescale
        t.empty_s = t.empty_s / movie_timescale if movie_timescale else 0.0
    return Mp4Layout(top_level=[k.decode("latin-1") for k, _, _ in top], tracks=tracks)
