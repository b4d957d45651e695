"""Without Piper a voice step runs on espeak-ng; without a soundfont music runs on the synth.
Each decision says why, through the same check the router uses."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from podium.catalog import load_catalog
from podium.plan import Router
from podium.providers.local import LocalProvider
from podium.providers.local.engine import load_engine
from podium.providers.registry import ProviderRegistry
from podium.settings import Settings
from podium.spec.models import Pipeline, Step
from tests.audio import measure
from tests.audio.engines import LEMON, make_request, run_local

REMOTE_KEYS = ("FAL_KEY", "REPLICATE_API_TOKEN", "OPENAI_API_KEY", "ELEVENLABS_API_KEY")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No remote key: only the local engines can run."""
    for key in REMOTE_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def no_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piper cannot be imported (as on a machine where it is not installed)."""
    monkeypatch.setitem(sys.modules, "piper", None)


@pytest.fixture
def no_soundfont(monkeypatch: pytest.MonkeyPatch) -> None:
    """No General MIDI soundfont on this machine."""
    monkeypatch.setenv("PODIUM_SOUNDFONT", "")


def _registry(settings: Settings) -> ProviderRegistry:
    return ProviderRegistry(settings, classes={"local": LocalProvider})


def _decide(settings: Settings, step: Step, policy: str = "best") -> tuple[str, dict[str, str]]:
    """The router's choice for one step and the exclusion reasons it gave."""
    router = Router(load_catalog(), _registry(settings).check, settings)
    pipeline = Pipeline(name="fallback", steps=[step])
    decision = router.plan(pipeline, policy=policy).decisions[step.id]
    reasons = {c.model.split("@")[0]: c.excluded.reason for c in decision.candidates if c.excluded}
    return decision.chosen.split("@")[0], reasons


VOICE = Step(id="voice", task="text-to-speech", prompt={"text": "Grab one today."})
MUSIC = Step(id="music", task="text-to-music", prompt={"mood": "happy", "duration_s": 6})


def test_piper_and_composer_run_here(settings: Settings, offline: None) -> None:
    catalog = load_catalog()
    registry = _registry(settings)
    for model in ("local/piper", "local/espeak", "local/composer", "local/synth", "local/mixer"):
        assert registry.check(catalog.get(model)) is None, model
    # quality first: the neural voice and the soundfont (espeak and the synth are faster)
    assert _decide(settings, VOICE)[0] == "local/piper"
    assert _decide(settings, MUSIC)[0] == "local/composer"


async def test_without_piper_the_voice_runs_on_espeak(
    settings: Settings, offline: None, no_piper: None, tmp_path: Path
) -> None:
    reason = _registry(settings).check(load_catalog().get("local/piper"))
    assert reason is not None and "piper" in reason
    for policy in ("best", "balanced"):
        chosen, reasons = _decide(settings, VOICE, policy)
        assert chosen == "local/espeak"
    assert "piper" in reasons["local/piper"]
    result = await run_local(make_request(chosen, tmp_path, prompt={"text": "Grab one today."}))
    assert sf.info(str(result.outputs[0].path)).duration > 0.5
    assert result.outputs[0].metadata["engine"] == "espeak-ng"


async def test_without_a_soundfont_music_runs_on_the_synth(
    settings: Settings, offline: None, no_soundfont: None, tmp_path: Path
) -> None:
    engine = load_engine("composer")
    assert engine is not None
    reason = engine.check(load_catalog().get("local/composer"))
    assert reason is not None and "soundfont" in reason
    for policy in ("best", "balanced"):
        chosen, reasons = _decide(settings, MUSIC, policy)
        assert chosen == "local/synth"
    assert "soundfont" in reasons["local/composer"]
    result = await run_local(make_request(chosen, tmp_path, prompt={"duration_s": 6}))
    assert sf.info(str(result.outputs[0].path)).duration == pytest.approx(6.0, abs=0.01)


async def test_without_the_espeak_program_the_wheels_library_speaks(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if "espeak" in name else which(name, *a, **k)
    )
    assert _registry(settings).check(load_catalog().get("local/espeak")) is None
    result = await run_local(make_request("local/espeak", tmp_path, prompt={"text": LEMON}))
    audio = result.outputs[0]
    assert audio.metadata["backend"] == "library"
    x, rate = measure.mono(audio.path)
    assert 80 <= float(np.median(measure.f0_voiced(x, rate))) <= 250
    peak_hz, share = measure.envelope_modulation(x, rate)
    assert 2.0 <= peak_hz <= 8.0 and share > 0.5
