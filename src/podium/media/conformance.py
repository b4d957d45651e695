"""Delivery conformance: measured on the written file, never taken from metadata.

Checks duration, frame rate, resolution and aspect, A/V offset (≤ 1 frame), integrated loudness
(within ± tolerance of the target), true peak after encoding, codecs, pixel format, audio sample
rate and faststart. The measurements use ffmpeg's EBU R128 scanner (``ebur128=peak=true``) on the
decoded audio and an MP4 box reader for timing and layout.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from podium.media.ffmpeg import probe
from podium.media.loudness import measure_loudness
from podium.media.mp4 import read_layout


@dataclass(frozen=True)
class Expected:
    """What a deliverable must be.

    Attributes:
        duration_s: asked duration.
        fps: frame rate.
        width: width in pixels.
        height: height in pixels.
        loudness_lufs: integrated loudness target.
        loudness_tolerance_lu: allowed deviation.
        true_peak_max_dbtp: ceiling on true peak.
        sample_rate: audio sample rate.
        duration_tolerance_s: allowed duration error (default one frame).
    """

    duration_s: float
    fps: float
    width: int
    height: int
    loudness_lufs: float = -14.0
    loudness_tolerance_lu: float = 1.0
    true_peak_max_dbtp: float = -1.0
    sample_rate: int = 48000
    duration_tolerance_s: float | None = None


@dataclass
class Check:
    """One conformance check: what was measured against what was asked."""

    name: str
    passed: bool
    measured: Any
    expected: Any


@dataclass
class ConformanceReport:
    """Every check of one file."""

    path: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """All checks passed."""
        return all(c.passed for c in self.checks)

    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in the artifact's metadata under ``conformance``."""
        return {
            "passed": self.passed,
            "checks": [asdict(c) for c in self.checks],
        }

    def summary(self) -> str:
        """One line naming the failed checks, with measured and expected values."""
        bad = self.failures()
        if not bad:
            return "all delivery checks passed"
        return "; ".join(f"{c.name}: measured {c.measured}, expected {c.expected}" for c in bad)


def check_delivery(path: str | Path, expected: Expected) -> ConformanceReport:
    """Measure ``path`` and check it against ``expected``."""
    p = Path(path)
    info = probe(p)
    layout = read_layout(p)
    report = ConformanceReport(path=str(p))
    add = report.checks.append
    frame = 1.0 / expected.fps
    tol = expected.duration_tolerance_s if expected.duration_tolerance_s is not None else frame
    v, a = info.video, info.audio
    vt, at = layout.track("vide"), layout.track("soun")
    duration = vt.duration_s if vt else (info.duration_s or 0.0)
    add(
        Check(
            "duration_s",
            abs(duration - expected.duration_s) <= tol + 1e-6,
            round(duration, 3),
            f"{expected.duration_s} ± {tol:.3f}",
        )
    )
    add(Check("video_codec", bool(v and v.codec == "h264"), v.codec if v else None, "h264"))
    add(Check("pix_fmt", bool(v and v.pix_fmt == "yuv420p"), v.pix_fmt if v else None, "yuv420p"))
    fps = v.fps if v else None
    add(Check("fps", fps is not None and abs(fps - expected.fps) < 0.01, fps, expected.fps))
    size = (v.width, v.height) if v else None
    add(
        Check(
            "resolution",
            size == (expected.width, expected.height),
            f"{size[0]}x{size[1]}" if size else None,
            f"{expected.width}x{expected.height}",
        )
    )
    add(Check("audio_codec", bool(a and a.codec == "aac"), a.codec if a else None, "aac"))
    add(
        Check(
            "sample_rate",
            bool(a and a.sample_rate == expected.sample_rate),
            a.sample_rate if a else None,
            expected.sample_rate,
        )
    )
    add(Check("faststart", layout.faststart, layout.top_level, "moov before mdat"))
    if vt and at:
        start_offset = abs(vt.empty_s - at.empty_s)
        audio_len = at.duration_s - at.start_s
        end_offset = abs((vt.empty_s + vt.duration_s) - (at.empty_s + audio_len))
        offset = max(start_offset, end_offset)
        add(Check("av_offset_s", offset <= frame + 1e-6, round(offset, 4), f"≤ {frame:.4f}"))
    if a:
        loud = measure_loudness(p)
        lo = expected.loudness_lufs - expected.loudness_tolerance_lu
        hi = expected.loudness_lufs + expected.loudness_tolerance_lu
        add(
            Check(
                "integrated_lufs",
                lo <= loud.integrated_lufs <= hi,
                loud.integrated_lufs,
                f"{expected.loudness_lufs} ± {expected.loudness_tolerance_lu}",
            )
        )
        add(
            Check(
                "true_peak_dbtp",
                loud.true_peak_dbtp <= expected.true_peak_max_dbtp,
                loud.true_peak_dbtp,
                f"≤ {expected.true_peak_max_dbtp}",
            )
        )
    return report
