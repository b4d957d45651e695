"""Video files from frames and frames from video files, through the imageio-ffmpeg binary.

:class:`VideoWriter` pipes raw RGB frames into ffmpeg's libx264 (yuv420p, +faststart: an MP4
every player opens); :func:`read_frames` decodes a file back to RGB arrays, which is how tests
and output checks look at what was written.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from podium.errors import BadOutput
from podium.media.ffmpeg import ffmpeg_exe, probe

RGB8 = NDArray[np.uint8]


class VideoWriter:
    """Writes RGB frames to an H.264 MP4 as they come.

    A writer thread feeds ffmpeg's stdin, so the caller renders the next frame while the pipe
    drains (a few frames are queued at most).

    Args:
        path: the MP4 to write.
        width: frame width (even).
        height: frame height (even).
        fps: frames per second.
        crf: x264 quality (lower is better; 18 is visually lossless).
        preset: x264 speed preset.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: float,
        *,
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        if width % 2 or height % 2:
            raise BadOutput(f"H.264 needs even frame sizes, got {width}×{height}")
        self.path = Path(path)
        self.size = (width, height)
        self.frames = 0
        cmd = [
            ffmpeg_exe(),
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
            "-r",
            f"{fps}",
            "-i",
            "-",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(self.path),
        ]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=3)
        self._broken = False
        self._thread = threading.Thread(target=self._pump, name="video-writer", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        """Write queued frames to ffmpeg until the end marker (or a broken pipe)."""
        stdin = self._proc.stdin
        assert stdin is not None
        while (data := self._queue.get()) is not None:
            if self._broken:
                continue  # drain, so that write() never blocks on a dead ffmpeg
            try:
                stdin.write(data)
            except (BrokenPipeError, ValueError):
                self._broken = True

    def write(self, frame: RGB8) -> None:
        """Append one (height, width, 3) uint8 frame."""
        if frame.shape != (self.size[1], self.size[0], 3):
            raise BadOutput(f"frame is {frame.shape}, expected {(self.size[1], self.size[0], 3)}")
        if self._broken:
            self._finish_thread()
            raise BadOutput(f"ffmpeg stopped while writing {self.path.name}: {self._err()}")
        self._queue.put(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        self.frames += 1

    def _finish_thread(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _err(self) -> str:
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        return lines[-1] if lines else f"exit code {self._proc.returncode}"

    def close(self) -> Path:
        """Finish the file; returns its path. Raises :class:`BadOutput` if ffmpeg failed."""
        self._finish_thread()
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        code = self._proc.wait(timeout=600)
        if code != 0:
            raise BadOutput(f"ffmpeg could not encode {self.path.name}: {self._err()}")
        if self._proc.stderr is not None:
            self._proc.stderr.close()
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and drop the partial file."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._broken = True
        self._finish_thread()
        for stream in (self._proc.stdin, self._proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_frames(path: str | Path, indices: list[int] | None = None) -> list[RGB8]:
    """Decode a video's frames as RGB arrays (all of them, or those at ``indices``).

    Negative indices count from the end, as in Python.
    """
    info = probe(path)
    video = info.video
    if video is None or not video.width or not video.height:
        raise BadOutput(f"{Path(path).name} has no video stream")
    w, h = video.width, video.height
    proc = subprocess.run(
        [
            *(ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path)),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-fps_mode", "passthrough", "-"),
        ],
        capture_output=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise BadOutput(f"cannot decode {Path(path).name}: {proc.stderr.decode()[-200:]}")
    data = np.frombuffer(proc.stdout, dtype=np.uint8)
    frames = data[: len(data) // (w * h * 3) * (w * h * 3)].reshape(-1, h, w, 3)
    if indices is None:
        return [f.copy() for f in frames]
    return [frames[i].copy() for i in indices]


def count_frames(path: str | Path) -> int:
    """How many frames a video file holds (by decoding it)."""
    return len(read_frames(path))
