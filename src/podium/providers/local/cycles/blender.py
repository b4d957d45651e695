"""Running Blender in the background on a Cycles job and reading back its pixels."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from podium.errors import BadOutput, Timeout, Unavailable

SCRIPT = Path(__file__).with_name("blender_scene.py")
INSTALL_HINT = "optional: apt-get install blender, or PODIUM_WITH_BLENDER=1 make setup"


def blender_exe() -> str | None:
    """The ``blender`` program on PATH, if any."""
    return shutil.which("blender")


@functools.cache
def blender_version(exe: str) -> str:
    """``Blender 3.4.1`` or similar: the first line ``blender --version`` prints."""
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    return lines[0] if lines else "Blender (unknown version)"


def run_job(job: Path, *, timeout_s: float | None = None, where: str = "") -> dict[str, Any]:
    """Render ``job`` with Blender; return the job (as written) once its pixels exist.

    Raises:
        Unavailable: Blender is not installed.
        Timeout: Blender ran past ``timeout_s``.
        BadOutput: Blender failed; the message carries its last error line.
    """
    import json

    exe = blender_exe()
    if exe is None:
        raise Unavailable("Blender is not installed", hint=INSTALL_HINT, where=where or None)
    cmd = [exe, "-b", "--factory-startup", "-noaudio", "--python-exit-code", "3"]
    cmd += ["-P", str(SCRIPT), "--", str(job)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise Timeout(f"Blender ran past {timeout_s:.0f} s", where=where or None) from exc
    spec: dict[str, Any] = json.loads(job.read_text(encoding="utf-8"))
    raw = Path(spec["raw"])
    if proc.returncode != 0 or not raw.exists():
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if "Error" in ln or "error" in ln]
        last = (errors or lines or [f"exit code {proc.returncode}"])[-1].strip()
        raise BadOutput(f"Blender failed: {last}", where=where or None)
    return spec


def read_pixels(spec: dict[str, Any]) -> NDArray[np.float32]:
    """The job's linear, premultiplied RGBA as (height, width, 4), top row first."""
    w, h = int(spec["width"]), int(spec["height"])
    data = np.fromfile(spec["raw"], dtype="<f4")
    if data.size != w * h * 4:
        raise BadOutput(f"Blender wrote {data.size} values, expected {w * h * 4}")
    return np.ascontiguousarray(data.reshape(h, w, 4)[::-1])
