"""``local/quality-score``: the offline ``score`` engine behind ``select: {by: quality}``.

It scores every item of the ``items`` slot and writes one JSON artifact::

    {"by": "quality", "scores": [{"index": 0, "quality": 0.71, "brisque": ..., ...}, ...]}

in input order; the runner sorts and keeps the best. Images are measured by
:mod:`podium.media.quality`; a video by three frames sampled over its length (the mean of
their measures); audio by clipping, loudness and silence (its image measures are ``null``).
"""

from __future__ import annotations

import json
from typing import Any

from podium.errors import InvalidInput
from podium.media.quality import (
    mean_quality,
    measure_audio,
    measure_file,
    sample_frames,
)
from podium.providers.base import Event, InputArtifact, OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.spec.vocabulary import ArtifactType

VIDEO_FRAMES = 3


def score_item(index: int, item: InputArtifact, request: Request) -> dict[str, Any]:
    """The score record of one item."""
    record: dict[str, Any] = {"index": index, "type": str(item.type), "sha256": item.sha256}
    if item.type == ArtifactType.AUDIO:
        audio = measure_audio(item.path, request.work_dir)
        record.update(
            quality=round(audio.quality, 6),
            brisque=None,
            sharpness=None,
            exposure=None,
            colourfulness=None,
            loudness_lufs=round(audio.loudness_lufs, 2) if audio.loudness_lufs > -1e9 else None,
            clipping=round(audio.clipping, 6),
            silence=round(audio.silence, 4),
        )
        return record
    if item.type == ArtifactType.VIDEO:
        frames = sample_frames(item.path, request.work_dir / f"frames-{index}", VIDEO_FRAMES)
        measured = mean_quality([measure_file(f) for f in frames])
        record["frames"] = len(frames)
    elif item.type == ArtifactType.IMAGE:
        measured = measure_file(item.path)
    else:
        raise InvalidInput(
            f"cannot score a {item.type} artifact (item {index})",
            where=f"step {request.step_id}",
            hint="score takes images, videos or audio",
        )
    record.update(measured.to_dict())
    return record


class QualityScoreEngine(Engine):
    """Scores images, videos and audio for ``select: {by: quality}``."""

    name = "quality-score"

    def run(self, request: Request, report: Reporter) -> Result:
        items = request.many("items")
        if not items:
            raise InvalidInput(
                "nothing to score: the `items` slot is empty",
                where=f"step {request.step_id}",
                hint="give the score step `inputs: {items: ${steps.ID.outputs}}`",
            )
        scores = []
        for index, item in enumerate(items):
            scores.append(score_item(index, item, request))
            report(Event("progress", progress=(index + 1) / len(items)))
        out = request.work_dir / "scores.json"
        out.write_text(json.dumps({"scores": scores, "by": "quality"}, indent=2) + "\n")
        best = max(scores, key=lambda s: s["quality"])
        return Result(
            outputs=[
                OutputFile(
                    ArtifactType.JSON,
                    out,
                    {"items": len(scores), "best_index": best["index"], "by": "quality"},
                )
            ]
        )


ENGINE = QualityScoreEngine()
