"""Reading SRT and WebVTT cues for burned-in captions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})")


@dataclass(frozen=True)
class Cue:
    """One caption: start and end in seconds, and its text."""

    start: float
    end: float
    text: str


def _seconds(stamp: str) -> float:
    m = _TIME.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"bad timestamp {stamp!r}")
    h, mi, s, ms = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(ms) / 1000.0


def read_cues(path: Path) -> list[Cue]:
    """Cues of an SRT or WebVTT file, in order (malformed blocks are skipped)."""
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.strip().splitlines() if ln.strip()]
        for i, line in enumerate(lines):
            if "-->" in line:
                left, right = line.split("-->", 1)
                try:
                    start, end = _seconds(left), _seconds(right.strip().split(" ")[0])
                except ValueError:
                    break
                body = " ".join(ln.strip() for ln in lines[i + 1 :])
                body = re.sub(r"<[^>]+>", "", body).strip()
                if body and end > start:
                    cues.append(Cue(start, end, body))
                break
    return cues
