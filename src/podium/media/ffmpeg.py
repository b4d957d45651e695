"""Running the ffmpeg binary shipped by the ``imageio-ffmpeg`` wheel, and probing media with it.

The wheel ships ``ffmpeg`` but no ``ffprobe``, so :func:`probe` reads the stream description
that ``ffmpeg -i`` prints.
"""

from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from podium.errors import BadOutput, Unavailable


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a dependency
        raise Unavailable("imageio-ffmpeg is not installed", hint="run `make setup`") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run_ffmpeg(args: list[str], *, what: str = "ffmpeg", timeout: float | None = 600) -> str:
    """Run ffmpeg with ``args`` (``-y -hide_banner -loglevel error`` prepended).

    Returns its stderr. Raises :class:`BadOutput` with ffmpeg's last line on failure.
    """
    cmd = [ffmpeg_exe(), "-y", "-hide_banner", "-nostdin", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit code {proc.returncode}"
        raise BadOutput(f"{what} failed: {last}")
    return proc.stderr


@dataclass
class StreamInfo:
    """One stream as ffmpeg describes it."""

    kind: str
    codec: str
    description: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pix_fmt: str | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass
class ProbeInfo:
    """What ffmpeg says about a media file."""

    path: Path
    format: str
    duration_s: float | None
    bitrate_kbps: float | None
    streams: list[StreamInfo] = field(default_factory=list)

    @property
    def video(self) -> StreamInfo | None:
        """The first video stream."""
        return next((s for s in self.streams if s.kind == "Video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream."""
        return next((s for s in self.streams if s.kind == "Audio"), None)


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_BITRATE = re.compile(r"bitrate: (\d+) kb/s")
_INPUT = re.compile(r"Input #0, ([^,]+(?:,[^,]+)*?), from")
_STREAM = re.compile(
    r"Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Subtitle|Data): (.*)"
)


def probe(path: str | Path) -> ProbeInfo:
    """Describe a media file: container, duration, and each stream's codec and geometry.

    Raises:
        BadOutput: the file cannot be opened as media.
    """
    p = Path(path)
    if not p.exists():
        raise BadOutput(f"{p} does not exist")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(p)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    err = proc.stderr
    if "Input #0" not in err:
        last = err.strip().splitlines()[-1] if err.strip() else "unreadable"
        raise BadOutput(f"{p.name} is not readable media: {last}")
    m = _DURATION.search(err)
    duration = None
    if m:
        h, mi, s = m.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    b = _BITRATE.search(err)
    fmt = _INPUT.search(err)
    info = ProbeInfo(
        path=p,
        format=fmt.group(1) if fmt else "",
        duration_s=duration,
        bitrate_kbps=float(b.group(1)) if b else None,
    )
    for kind, desc in _STREAM.findall(err):
        codec = desc.split(",")[0].split(" ")[0]
        stream = StreamInfo(kind=kind, codec=codec, description=desc)
        if kind == "Video":
            size = re.search(r"(\d{2,5})x(\d{2,5})", desc)
            if size:
                stream.width, stream.height = int(size.group(1)), int(size.group(2))
            fps = re.search(r"([\d.]+) fps", desc) or re.search(r"([\d.]+) tbr", desc)
            if fps:
                stream.fps = float(fps.group(1))
            pix = re.search(r"\b(yuv\w+|rgb\w+|gray\w*|rgba|bgra|pal8|nv12)\b", desc)
            if pix:
                stream.pix_fmt = pix.group(1)
        elif kind == "Audio":
            sr = re.search(r"(\d+) Hz", desc)
            if sr:
                stream.sample_rate = int(sr.group(1))
            if "stereo" in desc:
                stream.channels = 2
            elif "mono" in desc:
                stream.channels = 1
        info.streams.append(stream)
    return info
