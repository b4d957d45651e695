"""Synthetic inputs for the final cut: test-pattern shots and a tone+noise mix made with ffmpeg."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podium.catalog import load_catalog
from podium.providers.base import InputArtifact, Request
from podium.spec.vocabulary import ArtifactType, Task
from tests.compose.synth import make_audio, make_shot


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Three 3 s shots, a 6 s mix and two captions."""
    d = tmp_path_factory.mktemp("media")
    shots = tuple(
        make_shot(d / f"shot{i}.mp4", src, 3.0)
        for i, src in enumerate(("testsrc2", "smptebars", "rgbtestsrc"))
    )
    srt = d / "voice.srt"
    srt.write_text(
        "1\n00:00:00,300 --> 00:00:01,800\nMeet Lemon Soda.\n\n"
        "2\n00:00:02,000 --> 00:00:03,500\nBrewed with real lemons.\n",
        encoding="utf-8",
    )
    return {
        "shots": shots,
        "audio": make_audio(d / "mix.wav", 6.0),
        "subtitles": InputArtifact(ArtifactType.SUBTITLES, srt, "srt", {}),
    }


@pytest.fixture
def cut_request(tmp_path: Path, media: dict[str, object]) -> Callable[..., Request]:
    """Build a compose-video request over the synthetic media, params overridable."""
    card = load_catalog().get("local/cut")

    def build(**params: object) -> Request:
        inputs = {k: v for k, v in media.items() if k in ("shots", "audio", "subtitles")}
        overrides = params.pop("inputs", None)
        if isinstance(overrides, dict):
            inputs.update(overrides)
        work = tmp_path / f"work-{len(list(tmp_path.iterdir()))}"
        work.mkdir()
        return Request(
            step_id="cut",
            task=Task.COMPOSE_VIDEO,
            card=card,
            prompt=None,
            prompt_text="",
            inputs=inputs,  # type: ignore[arg-type]
            params={"duration_s": 6.0, "end_card_s": 1.5, **params},
            seed=0,
            outputs=(ArtifactType.VIDEO,),
            work_dir=work,
            idempotency_key="cut-test",
        )

    return build
