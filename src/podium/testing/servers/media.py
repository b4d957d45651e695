"""Small, valid media the loopback servers hand out (and the corrupt bytes they swap in).

Images are drawn from the prompt's hash so different prompts give different pictures; audio is a
quiet tone of the requested length; video is an MP4 made once per length with the
imageio-ffmpeg binary and cached; meshes are a GLB box.
"""

from __future__ import annotations

import functools
import hashlib
import io
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CORRUPT = b"\x00\x13 this is not the media you asked for \x00" * 8


def png(width: int = 64, height: int = 64, text: str = "") -> bytes:
    """A PNG whose colours follow ``text``."""
    from PIL import Image

    digest = hashlib.sha256(text.encode()).digest()
    w, h = max(8, min(int(width), 2048)), max(8, min(int(height), 2048))
    y, x = np.mgrid[0:h, 0:w]
    pixels = np.stack(
        [
            (x * 255 // w + digest[0]) % 256,
            (y * 255 // h + digest[1]) % 256,
            np.full_like(x, digest[2]),
        ],
        axis=-1,
    ).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, format="PNG")
    return buf.getvalue()


def pcm16(seconds: float, sample_rate: int = 24000, freq: float = 220.0) -> bytes:
    """Mono 16-bit little-endian PCM: a quiet tone of ``seconds``."""
    n = max(1, int(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    tone = 0.2 * np.sin(2 * np.pi * freq * t)
    return (tone * 32767).astype("<i2").tobytes()


def wav(seconds: float, sample_rate: int = 24000) -> bytes:
    """A WAV file of ``seconds``."""
    import soundfile as sf

    samples = np.frombuffer(pcm16(seconds, sample_rate), dtype="<i2")
    buf = io.BytesIO()
    sf.write(buf, samples, sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@functools.lru_cache(maxsize=16)
def encoded_audio(seconds: float, fmt: str, sample_rate: int = 24000) -> bytes:
    """Audio of ``seconds`` encoded as ``fmt`` (mp3, flac, opus, aac) with ffmpeg."""
    args = {
        "mp3": ["-f", "mp3"],
        "flac": ["-f", "flac"],
        "opus": ["-c:a", "libopus", "-f", "ogg"],
        "aac": ["-c:a", "aac", "-f", "adts"],
    }[fmt]
    return _ffmpeg(
        ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0", *args, "pipe:1"],
        pcm16(seconds, sample_rate),
    )


@functools.lru_cache(maxsize=16)
def mp4(seconds: float, width: int = 64, height: int = 64, fps: int = 8) -> bytes:
    """An H.264 MP4 of ``seconds`` with a silent-ish audio track."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        _ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size={width}x{height}:rate={fps}:duration={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=220:duration={seconds}",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-preset",
                "ultrafast",
                "-c:a",
                "aac",
                "-shortest",
                "-movflags",
                "+faststart",
                str(out),
            ],
            b"",
        )
        return out.read_bytes()


@functools.lru_cache(maxsize=1)
def glb() -> bytes:
    """A binary glTF box."""
    import trimesh

    data = trimesh.creation.box(extents=(1.0, 1.0, 1.0)).export(file_type="glb")
    return bytes(data)


def _ffmpeg(args: list[str], stdin: bytes) -> bytes:
    from imageio_ffmpeg import get_ffmpeg_exe

    proc = subprocess.run(
        [get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {proc.stderr.decode(errors='replace')[:300]}")
    return proc.stdout


def kind_for(app: str) -> str:
    """What a model named ``app`` makes: ``image``, ``video``, ``mesh``, ``music`` or ``audio``."""
    lowered = app.lower()
    if any(k in lowered for k in ("video", "kling", "veo", "luma", "ray", "hailuo", "wan")):
        return "video"
    if any(k in lowered for k in ("trellis", "3d", "tripo", "rodin")):
        return "mesh"
    if any(k in lowered for k in ("stable-audio", "music", "cassette", "lyria")):
        return "music"
    if any(k in lowered for k in ("tts", "speech", "audio")):
        return "audio"
    return "image"
