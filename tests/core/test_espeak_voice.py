"""espeak speaks a pipeline that names another engine's voice instead of failing the fallback."""

from __future__ import annotations

from pathlib import Path

from podium.catalog import load_catalog
from podium.providers.base import Request
from podium.providers.local.espeak import ENGINE, known_voices
from podium.spec.vocabulary import ArtifactType, Task


def test_piper_voice_name_falls_back_to_american_english(tmp_path: Path) -> None:
    assert "joe" not in known_voices() and "en-us" in known_voices() and "de" in known_voices()
    card = load_catalog().get("local/espeak")
    request = Request(
        step_id="voice",
        task=Task.TEXT_TO_SPEECH,
        card=card,
        prompt={"text": "Grab one today.", "voice": "joe"},
        prompt_text="Grab one today.",
        inputs={},
        params={},
        seed=0,
        outputs=(ArtifactType.AUDIO, ArtifactType.SUBTITLES),
        work_dir=tmp_path,
        idempotency_key="k",
    )
    result = ENGINE.run(request, lambda event: None)
    audio = result.outputs[0]
    assert audio.path.stat().st_size > 10_000
    assert audio.metadata["voice"] == "en-us"
