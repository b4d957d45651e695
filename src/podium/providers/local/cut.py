"""``local/cut``: the final cut (``compose-video``).

Shots are trimmed to fit the asked duration, reframed to the output aspect ratio with the
product kept in frame, joined with cuts or crossfades, captioned from the voice's subtitles and
closed by an end card (its own segment or over the last shot). The voice+music mix is laid
under them, sized to the cut and normalised to the loudness target — DESIGN's "last audio stage
normalises". The file is H.264 yuv420p + AAC 48 kHz with faststart, and its delivery conformance
is measured on the written file; a failed check is ``BadOutput``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podium.errors import BadOutput, InvalidInput
from podium.media.conformance import ConformanceReport, Expected, check_delivery
from podium.media.ffmpeg import ffmpeg_exe, probe, run_ffmpeg
from podium.media.subtitles import read_subtitles
from podium.providers.base import Event, InputArtifact, OutputFile, Reporter, Request, Result
from podium.providers.local.edit.cards import EndCard, draw_caption, draw_end_card
from podium.providers.local.edit.framing import cover_crop, focus_of
from podium.providers.local.edit.profiles import Profile, frame_size, get_profile
from podium.providers.local.edit.soundtrack import SoundtrackSpec, make_soundtrack
from podium.providers.local.engine import Engine
from podium.spec.vocabulary import ArtifactType


@dataclass(frozen=True)
class CutPlan:
    """The timing of one cut."""

    size: tuple[int, int]
    fps: int
    duration_s: float
    shot_s: float
    crossfade_s: float
    card_s: float
    card_mode: str  # "segment" | "overlay" | "none"
    segments: int  # shots, plus the end card when it is a segment of its own


def plan_cut(request: Request, profile: Profile, shots: Sequence[InputArtifact]) -> CutPlan:
    """Work out sizes and timings from the params, failing fast on impossible asks."""
    p = request.params
    size = frame_size(profile, str(p.get("aspect_ratio") or "16:9"))
    audio = request.single("audio")
    default_total = (audio.metadata.get("duration_s") if audio else None) or sum(
        float(s.metadata.get("duration_s") or 0) for s in shots
    )
    total = float(p.get("duration_s") or default_total or 0)
    if total <= 0:
        raise InvalidInput(
            "compose-video needs a duration",
            where=f"step {request.step_id}",
            hint="set params.duration_s (seconds of the finished cut)",
        )
    headline = str(p.get("headline") or "")
    card_mode = str(p.get("end_card") or ("segment" if headline else "none"))
    if card_mode not in ("segment", "overlay", "none"):
        raise InvalidInput(
            f"end_card {card_mode!r} is not segment, overlay or none",
            where=f"step {request.step_id}",
        )
    card_s = float(p.get("end_card_s") or 3.0) if card_mode != "none" else 0.0
    transition = str(p.get("transition") or "crossfade")
    xf = float(p.get("crossfade_s") or 0.5) if transition == "crossfade" else 0.0
    segments = len(shots) + (1 if card_mode == "segment" else 0)
    room = total - (card_s if card_mode == "segment" else 0.0) + (segments - 1) * xf
    shot_s = room / len(shots)
    if shot_s < max(0.5, 2 * xf):
        raise InvalidInput(
            f"{len(shots)} shots do not fit in {total:g} s with a {card_s:g} s end card",
            where=f"step {request.step_id}",
            hint="raise params.duration_s, shorten end_card_s or use fewer shots",
        )
    return CutPlan(size, profile.fps, total, shot_s, xf, card_s, card_mode, segments)


def _working_format(plan: CutPlan) -> str:
    """The pixel format between the shots' chains and the end: xfade blends only 4:4:4, so a
    crossfaded cut works in it throughout (one conversion a frame at the end, not two more
    around every blend)."""
    return "yuv444p" if plan.crossfade_s > 0 and plan.segments > 1 else "yuv420p"


def _shot_filters(shots: Sequence[InputArtifact], plan: CutPlan, fmt: str) -> list[str]:
    w, h = plan.size
    chains = []
    for i, shot in enumerate(shots):
        info = probe(shot.path)
        v = info.video
        if v is None or not v.width or not v.height:
            raise BadOutput(f"shot {i} ({shot.path.name}) has no video stream")
        duration = float(shot.metadata.get("duration_s") or info.duration_s or plan.shot_s)
        crop = cover_crop((v.width, v.height), (w, h), focus_of(shot.metadata, shot.path, duration))
        chains.append(
            f"[{i}:v]setpts=PTS-STARTPTS,fps={plan.fps},"
            f"{crop.filter()},setsar=1,format={fmt},"
            f"tpad=stop_mode=clone:stop_duration={plan.shot_s:.4f},"
            f"trim=duration={plan.shot_s:.4f},setpts=PTS-STARTPTS[s{i}]"
        )
    return chains


def _join(labels: list[str], durations: list[float], xf: float) -> tuple[list[str], str]:
    if len(labels) == 1:
        return [], labels[0]
    if xf <= 0:
        joined = "".join(f"[{lb}]" for lb in labels)
        return [f"{joined}concat=n={len(labels)}:v=1:a=0[joined]"], "joined"
    chains, current, offset = [], labels[0], 0.0
    for k in range(1, len(labels)):
        offset += durations[k - 1] - xf
        out = f"x{k}"
        chains.append(
            f"[{current}][{labels[k]}]xfade=transition=fade:duration={xf:.3f}:"
            f"offset={offset:.4f}[{out}]"
        )
        current = out
    return chains, current


Overlay = tuple[Path, int, int, float, float]  # png, x, y, from, to


def _overlays(request: Request, plan: CutPlan, card: EndCard) -> list[Overlay]:
    """Burned captions from the voice's subtitles (not over the end card), and an overlaid
    end card."""
    work = request.work_dir
    overlays: list[Overlay] = []
    captions = request.single("subtitles")
    if captions is not None and str(request.params.get("subtitles") or "burn") == "burn":
        caption_end = plan.duration_s - (plan.card_s if plan.card_mode != "none" else 0.0)
        for k, cue in enumerate(read_subtitles(captions.path)):
            if cue.start_s >= caption_end:
                continue
            text = " ".join(cue.text.split())  # one paragraph: the caption wraps it to the frame
            path, x, y = draw_caption(text, plan.size, work / f"caption-{k}.png")
            overlays.append((path, x, y, cue.start_s, min(cue.end_s, caption_end)))
    if plan.card_mode == "overlay":
        png = draw_end_card(card, plan.size, work / "endcard.png", overlay=True)
        overlays.append((png, 0, 0, plan.duration_s - plan.card_s, plan.duration_s + 1))
    return overlays


def _run_with_progress(args: list[str], total_s: float, report: Reporter, what: str) -> None:
    cmd = [ffmpeg_exe(), "-y", "-hide_banner", "-nostdin", "-progress", "pipe:1", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("out_time_us=") and total_s > 0:
            try:
                done = int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                continue
            report(Event("progress", progress=min(1.0, max(0.0, done / total_s)), message=what))
    _, err = proc.communicate()
    if proc.returncode != 0:
        last = [ln for ln in err.strip().splitlines() if ln.strip()]
        raise BadOutput(f"{what} failed: {last[-1] if last else proc.returncode}")


class CutEngine(Engine):
    """Composes the final video."""

    name = "cut"

    def run(self, request: Request, report: Reporter) -> Result:
        shots = request.many("shots")
        audio = request.single("audio")
        if not shots or audio is None:
            raise InvalidInput(
                "compose-video needs `shots` (videos) and `audio`",
                where=f"step {request.step_id}",
                hint="bind inputs.shots and inputs.audio to earlier steps' outputs",
            )
        profile = get_profile(str(request.params.get("profile") or "demo"))
        plan = plan_cut(request, profile, shots)
        work = request.work_dir
        video_only = self._render_video(request, shots, plan, profile, report)
        target = float(request.params.get("loudness_target") or -14.0)
        spec = SoundtrackSpec(plan.duration_s, target_lufs=target)
        expected = Expected(plan.duration_s, plan.fps, *plan.size, loudness_lufs=target)
        out = work / "cut.mp4"
        correction, ceiling = 0.0, spec.ceiling_dbtp
        conformance: ConformanceReport | None = None
        for _ in range(3):
            track = work / "soundtrack.wav"
            make_soundtrack(
                audio.path,
                track,
                SoundtrackSpec(plan.duration_s, target_lufs=target, ceiling_dbtp=ceiling),
                correction,
            )
            self._mux(video_only, track, out, plan, profile)
            conformance = check_delivery(out, expected)
            loud = {c.name: c.measured for c in conformance.checks}
            lufs, peak = loud.get("integrated_lufs"), loud.get("true_peak_dbtp")
            if conformance.passed or not isinstance(lufs, float) or not isinstance(peak, float):
                break
            # AAC moved the level: correct by what we measured on the encoded file
            correction += target - lufs
            if peak > expected.true_peak_max_dbtp:
                ceiling -= peak - expected.true_peak_max_dbtp + 0.3
        assert conformance is not None
        if not conformance.passed:
            raise BadOutput(
                f"the cut failed delivery checks: {conformance.summary()}",
                where=f"step {request.step_id}",
            )
        meta = {
            "duration_s": plan.duration_s,
            "width": plan.size[0],
            "height": plan.size[1],
            "fps": plan.fps,
            "aspect_ratio": request.params.get("aspect_ratio") or "16:9",
            "profile": profile.name,
            "shots": len(shots),
            "end_card": plan.card_mode,
            "conformance": conformance.to_dict(),
        }
        for c in conformance.checks:
            if c.name in ("integrated_lufs", "true_peak_dbtp"):
                meta[c.name] = c.measured
        return Result(outputs=[OutputFile(ArtifactType.VIDEO, out, meta)])

    def _render_video(
        self,
        request: Request,
        shots: Sequence[InputArtifact],
        plan: CutPlan,
        profile: Profile,
        report: Reporter,
    ) -> Path:
        work = request.work_dir
        args: list[str] = []
        for shot in shots:
            args += ["-i", str(shot.path)]
        fmt = _working_format(plan)
        chains = _shot_filters(shots, plan, fmt)
        labels = [f"s{i}" for i in range(len(shots))]
        durations = [plan.shot_s] * len(shots)
        next_input = len(shots)
        card = EndCard(
            headline=str(request.params.get("headline") or ""),
            call_to_action=str(request.params.get("call_to_action") or ""),
            brand_color=request.params.get("brand_color"),
            logo=(logo.path if (logo := request.single("logo")) else None),
        )
        if plan.card_mode == "segment":
            png = draw_end_card(card, plan.size, work / "endcard.png", overlay=False)
            args += ["-framerate", str(plan.fps), "-i", str(png)]
            # decoded and converted once, then repeated (``-loop 1`` would decode the PNG
            # again for every frame of the card)
            frames = max(1, round(plan.card_s * plan.fps))
            chains.append(
                f"[{next_input}:v]setsar=1,format={fmt},"
                f"loop=loop={frames - 1}:size=1:start=0,setpts=N/{plan.fps}/TB[card]"
            )
            labels.append("card")
            durations.append(plan.card_s)
            next_input += 1
        joins, current = _join(labels, durations, plan.crossfade_s)
        chains += joins
        overlays = _overlays(request, plan, card)
        for k, (path, x, y, start, end) in enumerate(overlays):
            args += ["-i", str(path)]
            out = f"o{k}"
            chains.append(
                f"[{current}][{next_input}:v]overlay={x}:{y}:"
                f"enable='between(t,{start:.3f},{end:.3f})'[{out}]"
            )
            current, next_input = out, next_input + 1
        chains.append(f"[{current}]format=yuv420p[vout]")
        graph = work / "graph.txt"
        graph.write_text(";\n".join(chains), encoding="utf-8")
        out_path = work / "video-only.mp4"
        args += [
            "-/filter_complex",  # read the graph from a file
            str(graph),
            "-map",
            "[vout]",
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            profile.preset,
            "-crf",
            str(profile.crf),
            "-pix_fmt",
            "yuv420p",
            "-r",
            str(plan.fps),
            "-t",
            f"{plan.duration_s:.4f}",
            str(out_path),
        ]
        _run_with_progress(args, plan.duration_s, report, "rendering the cut")
        return out_path

    def _mux(self, video: Path, track: Path, out: Path, plan: CutPlan, profile: Profile) -> None:
        run_ffmpeg(
            [
                "-i",
                str(video),
                "-i",
                str(track),
                "-map",
                "0:v",
                "-map",
                "1:a",
                "-c:v",
                "copy",
                "-c:a",
                "aac",
                "-b:a",
                profile.audio_bitrate,
                "-ar",
                "48000",
                "-ac",
                "2",
                "-t",
                f"{plan.duration_s:.4f}",
                "-movflags",
                "+faststart",
                str(out),
            ],
            what="muxing the cut",
        )


ENGINE = CutEngine()
