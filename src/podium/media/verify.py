"""Output checks: nothing a provider returns counts until it passes here.

An image must decode (Pillow), audio and video must probe with the expected duration ± 10 %
(WAV/FLAC through soundfile, which is fast; anything else through ffmpeg), a mesh must load
(trimesh), and text, JSON, subtitles and MIDI must parse. Every failure is :class:`BadOutput`
with one line saying what is wrong; success returns the measured metadata (width, height,
duration_s, fps, sample_rate ...) that references such as ``${steps.voice.output.duration_s}``
read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from podium.errors import BadOutput

DURATION_TOLERANCE = 0.10
_SRT_TIME = re.compile(r"\d{2}:\d{2}:\d{2}[,.]\d{3}\s*-->\s*\d{2}:\d{2}:\d{2}[,.]\d{3}")


def verify_output(
    path: Path, type: str, *, expected_duration_s: float | None = None
) -> dict[str, Any]:
    """Check one output file of artifact type ``type``; return what was measured.

    Args:
        path: the file.
        type: its declared artifact type (``image``, ``audio`` ...).
        expected_duration_s: for audio and video, the length asked for (± 10 %).

    Raises:
        BadOutput: the file is missing, empty, undecodable or off-spec.
    """
    try:
        size = path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        raise BadOutput(f"output {path.name} was not written") from None
    if size == 0:
        raise BadOutput(f"output {path.name} is empty")
    checker = _CHECKS.get(type)
    if checker is None:
        raise BadOutput(f"output {path.name} has unknown type {type!r}")
    meta = checker(path)
    if expected_duration_s and type in ("audio", "video"):
        _check_duration(path, meta.get("duration_s"), expected_duration_s)
    return meta


def _check_duration(path: Path, measured: float | None, expected: float) -> None:
    if measured is None:
        raise BadOutput(f"{path.name}: duration cannot be measured")
    if abs(measured - expected) > DURATION_TOLERANCE * expected:
        raise BadOutput(
            f"{path.name} lasts {measured:.2f} s, expected {expected:.2f} s ± 10 %",
            hint="the model ignored the requested duration; falling back",
        )


def _image(path: Path) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()  # decode every pixel, not just the header
            return {"width": img.width, "height": img.height, "mode": img.mode}
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise BadOutput(f"{path.name} is not a decodable image: {exc}") from None


def _audio(path: Path) -> dict[str, Any]:
    if path.suffix.lower() in (".wav", ".flac", ".ogg"):
        import soundfile

        try:
            info = soundfile.info(str(path))
        except (RuntimeError, soundfile.LibsndfileError) as exc:
            raise BadOutput(f"{path.name} is not decodable audio: {exc}") from None
        if info.frames <= 0:
            raise BadOutput(f"{path.name} holds no audio samples")
        return {
            "duration_s": info.frames / info.samplerate,
            "sample_rate": info.samplerate,
            "channels": info.channels,
        }
    return _media(path, want="audio")


def _media(path: Path, *, want: str) -> dict[str, Any]:
    from podium.media.ffmpeg import probe

    info = probe(path)  # raises BadOutput when ffmpeg cannot open it
    stream = info.video if want == "video" else info.audio
    if stream is None:
        raise BadOutput(f"{path.name} has no {want} stream")
    meta: dict[str, Any] = {"duration_s": info.duration_s, "format": info.format}
    if want == "video":
        meta.update(width=stream.width, height=stream.height, fps=stream.fps)
        if info.audio is not None:
            meta["audio_sample_rate"] = info.audio.sample_rate
    else:
        meta.update(sample_rate=stream.sample_rate, channels=stream.channels)
    return meta


def _video(path: Path) -> dict[str, Any]:
    return _media(path, want="video")


def _mesh(path: Path) -> dict[str, Any]:
    import trimesh

    try:
        loaded = trimesh.load(str(path), force="mesh")
    except Exception as exc:  # trimesh raises many unrelated types on junk input
        raise BadOutput(f"{path.name} is not a loadable mesh: {exc}") from None
    faces = len(getattr(loaded, "faces", ()))
    if faces == 0:
        raise BadOutput(f"{path.name} holds no faces")
    return {"faces": faces, "vertices": len(getattr(loaded, "vertices", ()))}


def _text(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadOutput(f"{path.name} is not UTF-8 text") from None
    if "\x00" in text:
        raise BadOutput(f"{path.name} holds binary bytes, not text")
    return {"chars": len(text.strip()), "words": len(text.split())}


def _json(path: Path) -> dict[str, Any]:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadOutput(f"{path.name} is not valid JSON: {exc}") from None
    return {}


def _subtitles(path: Path) -> dict[str, Any]:
    meta = _text(path)
    text = path.read_text(encoding="utf-8")
    cues = _SRT_TIME.findall(text)
    if not cues:
        raise BadOutput(f"{path.name} holds no subtitle cues")
    return {"cues": len(cues), "format": "vtt" if text.startswith("WEBVTT") else "srt", **meta}


def _midi(path: Path) -> dict[str, Any]:
    import mido

    try:
        mid = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError, KeyError) as exc:
        raise BadOutput(f"{path.name} is not a valid MIDI file: {exc}") from None
    return {"duration_s": mid.length, "tracks": len(mid.tracks)}


_CHECKS = {
    "image": _image,
    "audio": _audio,
    "video": _video,
    "mesh": _mesh,
    "text": _text,
    "json": _json,
    "subtitles": _subtitles,
    "midi": _midi,
}
