"""Small, valid artifacts of every type, for the testing providers.

Each writer makes the smallest file that still passes :mod:`podium.media.verify` for its type:
a PNG that decodes, a WAV of the asked length, an MP4 that ffmpeg probes at the asked length, a
GLB that trimesh loads, an SRT, a MIDI file, a JSON score sheet. Output depends only on the
arguments (and the seed), so the same request always makes the same bytes — which is what lets a
re-run hit the cache and a crash-resume compare hashes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from podium.spec.vocabulary import ArtifactType

A = ArtifactType


def write_png(path: Path, *, width: int = 16, height: int = 16, seed: int = 0) -> dict[str, Any]:
    """A gradient PNG coloured by ``seed``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=3, dtype=np.uint8)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    pixels = (base[None, None, :] * (0.5 + 0.5 * ramp)).astype(np.uint8)
    Image.fromarray(np.repeat(pixels, height, axis=0), "RGB").save(path, format="PNG")
    return {"width": width, "height": height}


def write_wav(
    path: Path, *, duration_s: float = 1.0, sample_rate: int = 16000, seed: int = 0
) -> dict[str, Any]:
    """A mono 16-bit sine tone of ``duration_s`` seconds."""
    n = max(1, round(duration_s * sample_rate))
    freq = 220.0 + (seed % 24) * 20.0
    t = np.arange(n, dtype=np.float32) / sample_rate
    samples = (0.2 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(samples.tobytes())
    return {"duration_s": n / sample_rate, "sample_rate": sample_rate}


def _video_cache_dir() -> Path:
    root = Path(os.environ.get("PODIUM_FAKE_CACHE") or Path(tempfile.gettempdir()) / "podium-fake")
    root.mkdir(parents=True, exist_ok=True)
    return root


def write_mp4(
    path: Path, *, duration_s: float = 1.0, width: int = 64, height: int = 64, fps: int = 12
) -> dict[str, Any]:
    """A tiny H.264 test pattern; one file per (duration, size, fps) is encoded once and copied."""
    from podium.media.ffmpeg import ffmpeg_exe

    duration_s = round(duration_s, 2)
    cached = _video_cache_dir() / f"v-{duration_s}-{width}x{height}-{fps}.mp4"
    if not cached.exists():
        tmp = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.mp4")
        subprocess.run(
            [
                ffmpeg_exe(),
                "-y",
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size={width}x{height}:rate={fps}:duration={duration_s}",
                "-pix_fmt",
                "yuv420p",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                str(tmp),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        os.replace(tmp, cached)  # atomic: concurrent writers never expose a half file
    shutil.copyfile(cached, path)
    return {"duration_s": duration_s, "width": width, "height": height, "fps": fps}


def write_glb(path: Path, *, seed: int = 0) -> dict[str, Any]:
    """A unit box as binary glTF (written by hand: one mesh, positions and indices)."""
    size = 0.5 + (seed % 5) * 0.1
    h = size / 2
    corners = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    faces = [
        (0, 1, 3),
        (0, 3, 2),
        (4, 6, 7),
        (4, 7, 5),
        (0, 4, 5),
        (0, 5, 1),
        (2, 3, 7),
        (2, 7, 6),
        (0, 2, 6),
        (0, 6, 4),
        (1, 5, 7),
        (1, 7, 3),
    ]
    positions = np.array(corners, dtype="<f4").tobytes()
    indices = np.array(faces, dtype="<u2").tobytes()
    binary = indices + positions
    gltf = {
        "asset": {"version": "2.0", "generator": "podium fake"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 1}, "indices": 0}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(indices), "target": 34963},
            {
                "buffer": 0,
                "byteOffset": len(indices),
                "byteLength": len(positions),
                "target": 34962,
            },
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5123, "count": 36, "type": "SCALAR"},
            {
                "bufferView": 1,
                "componentType": 5126,
                "count": 8,
                "type": "VEC3",
                "min": [-h, -h, -h],
                "max": [h, h, h],
            },
        ],
    }
    js = json.dumps(gltf, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(js) + 8 + len(binary)
    with open(path, "wb") as f:
        f.write(struct.pack("<4sII", b"glTF", 2, total))
        f.write(struct.pack("<I4s", len(js), b"JSON") + js)
        f.write(struct.pack("<I4s", len(binary), b"BIN\0") + binary)
    return {"faces": 12, "size_m": size}


def write_srt(path: Path, text: str, *, duration_s: float = 1.0) -> dict[str, Any]:
    """One cue per sentence, spread over ``duration_s``."""
    sentences = [s.strip() for s in text.replace("\n", " ").split(".") if s.strip()] or ["…"]
    step = duration_s / len(sentences)

    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    cues = [
        f"{i + 1}\n{stamp(i * step)} --> {stamp((i + 1) * step)}\n{s}\n"
        for i, s in enumerate(sentences)
    ]
    path.write_text("\n".join(cues), encoding="utf-8")
    return {"cues": len(cues), "duration_s": duration_s}


def write_midi(path: Path, *, duration_s: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """A few quarter notes at 120 bpm filling ``duration_s``."""
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    notes = max(1, round(duration_s * 2))
    for i in range(notes):
        note = 60 + (seed + i * 7) % 12
        track.append(mido.Message("note_on", note=note, velocity=80, time=0))
        track.append(mido.Message("note_off", note=note, velocity=0, time=480))
    buf = io.BytesIO()
    mid.save(file=buf)
    path.write_bytes(buf.getvalue())
    return {"notes": notes, "duration_s": notes / 2}


def score_sheet(hashes: Sequence[str]) -> dict[str, Any]:
    """Deterministic 0–1 quality scores for items, in input order (the local scorer's shape)."""
    scores = []
    for i, sha in enumerate(hashes):
        q = int(hashlib.sha256(sha.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        scores.append({"index": i, "quality": round(q, 4)})
    return {"scores": scores, "by": "quality"}


def write_artifact(
    kind: ArtifactType,
    path: Path,
    *,
    seed: int = 0,
    text: str = "",
    duration_s: float | None = None,
    width: int | None = None,
    height: int | None = None,
    items: Sequence[str] = (),
) -> dict[str, Any]:
    """Write a small valid artifact of type ``kind`` to ``path``; return its metadata."""
    seconds = duration_s or 1.0
    if kind == A.IMAGE:
        return write_png(path, width=width or 16, height=height or 16, seed=seed)
    if kind == A.AUDIO:
        return write_wav(path, duration_s=seconds, seed=seed)
    if kind == A.VIDEO:
        return write_mp4(path, duration_s=seconds, width=width or 64, height=height or 64)
    if kind == A.MESH:
        return write_glb(path, seed=seed)
    if kind == A.SUBTITLES:
        return write_srt(path, text or "Hello.", duration_s=seconds)
    if kind == A.MIDI:
        return write_midi(path, duration_s=seconds, seed=seed)
    if kind == A.JSON:
        path.write_text(json.dumps(score_sheet(items)), encoding="utf-8")
        return {"items": len(items)}
    body = text or f"fake text {seed}"
    path.write_text(body + "\n", encoding="utf-8")
    return {"chars": len(body)}


def corrupt(path: Path) -> None:
    """Overwrite a file with bytes no decoder accepts (the ``bad_output`` fault)."""
    path.write_bytes(b"\x00corrupt" * 8)
