"""The runner on the in-process fake provider: scheduling, fan-out, select, references,
cache, hedging and budgets — measured on real files and the ledger."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
import soundfile
from PIL import Image

from podium.errors import BudgetExceeded
from podium.execute import RunEvent
from podium.media.verify import verify_output

from .conftest import Harness

FIELDS = "style: photo, lighting: soft, composition: centered, perspective: eye level"


async def test_steps_start_as_their_own_dependencies_finish(
    harness: Harness, tmp_path: Path
) -> None:
    # slow -> after_slow and fast -> after_fast: after_fast must not wait for slow (no levels)
    text = """
name: dag
steps:
  - {id: slow, task: text, prompt: slow, params: {latency_s: 0.6}, route: {pin: fake/text-a}}
  - {id: fast, task: text, prompt: fast, params: {latency_s: 0.05}, route: {pin: fake/text-a}}
  - {id: after_fast, task: text, prompt: "${steps.fast.output}!", params: {latency_s: 0.05},
      route: {pin: fake/text-a}}
  - {id: after_slow, task: text, prompt: "${steps.slow.output}?", route: {pin: fake/text-a}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded"
    steps = {s.key: s for s in harness.store.journal.steps(outcome.run_id)}
    assert steps["after_fast"].finished_at < steps["slow"].finished_at
    assert (tmp_path / "after_slow.txt").read_text().strip() == "slow?"
    assert (tmp_path / "after_fast.txt").read_text().strip() == "fast!"
    assert outcome.wall_s < 1.2


async def test_variants_select_keeps_the_best_first(harness: Harness, tmp_path: Path) -> None:
    text = f"""
name: sel
steps:
  - id: hero
    task: text-to-image
    prompt: {{subject: a can, {FIELDS}}}
    variants: {{count: 4}}
    select: {{by: quality, keep: 2}}
    params: {{width: 24, height: 20}}
    route: {{pin: fake/image-b}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded"
    assert sorted(p.name for p in tmp_path.glob("hero-*.png")) == ["hero-0.png", "hero-1.png"]
    with Image.open(tmp_path / "hero-0.png") as img:
        assert img.size == (24, 20)
    # the kept ones are the best two of the score sheet, best first
    sheet_rec = next(
        s for s in harness.store.journal.steps(outcome.run_id) if s.key == "hero.select"
    )
    sheet = json.loads(harness.store.artifacts.path(sheet_rec.outputs[0]).read_text())
    scores = [row["quality"] for row in sheet["scores"]]
    units = {
        s.key: s.outputs[0] for s in harness.store.journal.steps(outcome.run_id) if "[" in s.key
    }
    ranked = sorted(range(4), key=lambda i: -scores[i])[:2]
    kept = [o.sha256 for o in outcome.outputs]
    assert kept == [units[f"hero[{i}]"] for i in ranked]


async def test_metadata_references_and_foreach(harness: Harness, tmp_path: Path) -> None:
    text = f"""
name: refs
inputs:
  ratios: {{type: list, default: ["16:9", "1:1"]}}
steps:
  - id: voice
    task: text-to-speech
    prompt: {{text: Hello there. Goodbye.}}
    params: {{duration_s: 1.5}}
    route: {{pin: fake/speech-a}}
  - id: music
    task: text-to-music
    prompt: {{genre: pop, duration_s: "${{steps.voice.output.duration_s}}"}}
    route: {{pin: fake/music-a}}
  - id: frames
    task: text-to-image
    foreach: "${{inputs.ratios}}"
    prompt: {{subject: "can at ${{item}}", {FIELDS}}}
    route: {{pin: fake/image-a}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded", outcome.errors
    assert soundfile.info(str(tmp_path / "music.wav")).duration == 1.5
    assert verify_output(tmp_path / "voice.srt", "subtitles")["cues"] == 2
    assert verify_output(tmp_path / "music.mid", "midi")["duration_s"] > 0
    assert sorted(p.name for p in tmp_path.glob("frames-*.png")) == ["frames-0.png", "frames-1.png"]


async def test_rerun_hits_the_cache_for_free(harness: Harness, tmp_path: Path) -> None:
    text = f"""
name: cache
steps:
  - {{id: a, task: text-to-image, prompt: {{subject: x, {FIELDS}}}, params: {{cost_usd: 0.02}},
      route: {{pin: fake/image-a}}}}
  - {{id: b, task: image-to-video, inputs: {{image: "${{steps.a.output}}"}},
      prompt: {{subject: x, action: spin, camera: orbit, duration_s: 1}},
      params: {{cost_usd: 0.1}}, route: {{pin: fake/animate-a}}}}
  - {{id: c, task: text, prompt: uncached, cache: false, route: {{pin: fake/text-a}}}}
"""
    first = await harness.runner.run(harness.spec(text), out_dir=tmp_path / "1")
    second = await harness.runner.run(harness.spec(text), out_dir=tmp_path / "2")
    assert first.cost_usd == pytest.approx(0.12) and second.cost_usd == 0.0
    statuses = {a.step_key: a.status for a in harness.store.journal.attempts(second.run_id)}
    assert statuses == {"a": "cached", "b": "cached", "c": "succeeded"}
    assert {o.path.name: o.sha256 for o in first.outputs} == {
        o.path.name: o.sha256 for o in second.outputs
    }
    assert verify_output(tmp_path / "2" / "b.mp4", "video", expected_duration_s=1.0)


async def test_hedge_starts_the_fallback_and_cancels_the_loser(
    harness: Harness, tmp_path: Path
) -> None:
    # the primary never answers; after 0.2 s the fallback starts in parallel and wins
    text = f"""
name: hedge
steps:
  - id: img
    task: text-to-image
    prompt: {{subject: x, {FIELDS}}}
    params: {{fail_rate: 1, fail_kind: timeout, fail_model: fake/image-a, cost_usd: 0.01}}
    timeout_s: 30
    route: {{exclude: [fake-remote], policy: fastest, hedge_after_s: 0.2, fallbacks: 1}}
"""
    t0 = time.monotonic()
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded"
    assert time.monotonic() - t0 < 2
    rows = harness.store.journal.attempts(outcome.run_id)
    by_model = {a.model: a for a in rows}
    assert by_model["fake/image-a@1"].status == "cancelled" and not by_model["fake/image-a@1"].hedge
    assert by_model["fake/image-b@1"].status == "succeeded" and by_model["fake/image-b@1"].hedge
    assert outcome.cost_usd == 0.02  # both costs ledgered


async def test_budget_never_overshoots_under_concurrency(harness: Harness, tmp_path: Path) -> None:
    steps = "\n".join(
        f"  - {{id: s{i}, task: text, prompt: p{i}, params: {{cost_usd: 0.1, latency_s: 0.05}},"
        f" route: {{pin: fake/text-a}}}}"
        for i in range(50)
    )
    in_flight = 0
    peak = 0

    def watch(event: RunEvent) -> None:
        nonlocal in_flight, peak
        if event.kind == "attempt" and event.status == "attempt":
            in_flight += 1
            peak = max(peak, in_flight)
        if event.kind == "step" and event.key == event.step_id and event.status != "running":
            in_flight = max(0, in_flight - 1)

    spec = harness.spec(f"name: budget\nsteps:\n{steps}\n")
    outcome = await harness.runner.run(
        spec, budget_usd=1.0, force=True, out_dir=tmp_path, on_event=watch
    )
    statuses = [s.status for s in harness.store.journal.steps(outcome.run_id)]
    done = statuses.count("succeeded")
    assert 8 <= done <= 10
    assert statuses.count("failed") == 50 - done
    codes = {
        s.error_code for s in harness.store.journal.steps(outcome.run_id) if s.status == "failed"
    }
    assert codes == {"budget_exceeded"}
    assert outcome.cost_usd <= 1.0 + 1e-9
    assert peak >= 5
    assert "--budget budget of $1.00" in next(iter(outcome.errors.values()))


async def test_estimate_over_budget_is_refused_before_running(
    harness: Harness, tmp_path: Path
) -> None:
    text = (
        "name: b\nsteps:\n"
        "  - {id: a, task: text, prompt: x, params: {cost_usd: 2}, route: {pin: fake/text-a}}\n"
    )
    with pytest.raises(BudgetExceeded, match=r"estimated at \$2.0000.*--budget budget of \$1.00"):
        await harness.runner.run(harness.spec(text), budget_usd=1.0, out_dir=tmp_path)
    assert harness.store.journal.list_runs() == []


async def test_empty_foreach_and_a_failed_dependency(harness: Harness, tmp_path: Path) -> None:
    text = f"""
name: edge
inputs:
  none: {{type: list, default: []}}
steps:
  - {{id: nothing, task: text-to-image, foreach: "${{inputs.none}}",
      prompt: {{subject: "${{item}}", {FIELDS}}}, route: {{pin: fake/image-a}}}}
  - {{id: broken, task: text, prompt: x, params: {{fail_rate: 1, fail_kind: refused}},
      route: {{pin: fake/text-a}}}}
  - {{id: after, task: text, prompt: "${{steps.broken.output}}", route: {{pin: fake/text-a}}}}
  - {{id: fine, task: text, prompt: independent, route: {{pin: fake/text-a}}}}
"""
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "failed"
    steps = {s.key: s for s in harness.store.journal.steps(outcome.run_id)}
    assert steps["nothing"].status == "succeeded" and steps["nothing"].outputs == ()
    assert steps["broken"].status == "failed" and steps["broken"].error_code == "refused"
    assert steps["after"].status == "skipped"
    assert steps["fine"].status == "succeeded"  # independent steps carry on
    assert set(outcome.errors) == {"broken"}


async def test_hedge_defaults_to_the_observed_p95(harness: Harness, tmp_path: Path) -> None:
    harness.settings.min_samples = 3
    step = f"""
name: p95
steps:
  - id: img
    task: text-to-image
    prompt: {{subject: x, {FIELDS}}}
    params: {{latency_s: 0.05, PARAMS}}
    cache: false
    timeout_s: 30
    route: {{exclude: [fake-remote], policy: fastest, fallbacks: 1}}
"""
    for model in ("fake/image-a", "fake/image-b"):  # three quick samples of each: p95 ~0.05 s
        pinned = step.replace(", PARAMS", "").replace("exclude: [fake-remote]", f"pin: {model}")
        for _ in range(3):
            done = await harness.runner.run(harness.spec(pinned), out_dir=tmp_path)
            assert harness.attempts(done.run_id) == [(f"{model}@1", "succeeded", None)]
    # observed figures now steer the router: hang whichever model it chooses first
    chain = harness.runner.router.plan(harness.spec(step.replace(", PARAMS", ""))).decisions["img"]
    first, second = chain.chain[0], chain.chain[1]
    hang = step.replace("PARAMS", f"fail_rate: 1, fail_kind: timeout, fail_model: {first}")
    t0 = time.monotonic()
    outcome = await harness.runner.run(harness.spec(hang), out_dir=tmp_path)
    assert outcome.status == "succeeded" and time.monotonic() - t0 < 3
    ledger = {a.model: (a.status, a.hedge) for a in harness.store.journal.attempts(outcome.run_id)}
    assert ledger == {first: ("cancelled", False), second: ("succeeded", True)}


async def test_daily_budgets_count_what_earlier_runs_spent(
    harness: Harness, tmp_path: Path
) -> None:
    one = (
        "name: daily\nsteps:\n"
        "  - {id: a, task: text, prompt: PROMPT, params: {cost_usd: 0.4},\n"
        "     route: {pin: fake/text-a}}\n"
    )
    harness.settings.budget_pipeline_daily_usd = 1.0
    for i in range(2):  # $0.80 spent today by this pipeline
        done = await harness.runner.run(
            harness.spec(one.replace("PROMPT", f"p{i}")), out_dir=tmp_path
        )
        assert done.status == "succeeded"
    with pytest.raises(
        BudgetExceeded, match=r"only \$0.2000 is left of the daily budget of pipeline"
    ):
        await harness.runner.run(harness.spec(one.replace("PROMPT", "p3")), out_dir=tmp_path)
    forced = await harness.runner.run(
        harness.spec(one.replace("PROMPT", "p4")), out_dir=tmp_path, force=True
    )
    assert forced.status == "failed" and "budget_pipeline_daily_usd" in forced.errors["a"]
    assert forced.cost_usd == 0.0


async def test_resume_reuses_an_attempt_that_finished_before_the_crash(
    harness: Harness, tmp_path: Path
) -> None:
    text = (
        "name: again\nsteps:\n"
        "  - {id: a, task: text, prompt: once, cache: false, params: {cost_usd: 0.3},\n"
        "     route: {pin: fake/text-a}}\n"
    )
    first = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    journal = harness.store.journal
    # as if the process died after the attempt was journaled but before the step was
    (step,) = journal.steps(first.run_id)
    journal.put_step(dataclasses.replace(step, status="running", outputs=(), finished_at=None))
    journal.update_run(first.run_id, status="interrupted")
    again = await harness.runner.run(
        harness.spec(text), resume_run_id=first.run_id, out_dir=tmp_path
    )
    assert again.status == "succeeded" and again.run_id == first.run_id
    assert harness.attempts(first.run_id) == [("fake/text-a@1", "succeeded", None)]
    assert again.cost_usd == pytest.approx(0.3)  # paid once
    assert (tmp_path / "a.txt").read_text().strip() == "once"


async def test_an_out_dir_that_cannot_be_made_is_refused_before_anything_runs(
    harness: Harness, tmp_path: Path
) -> None:
    from podium.errors import PodiumError

    (tmp_path / "taken").write_text("a file where the out dir should go")
    text = """
name: nowhere
steps:
  - {id: a, task: text, prompt: hi, route: {pin: fake/text-a}}
"""
    with pytest.raises(PodiumError, match=r"cannot write the out dir .*taken is a file"):
        await harness.runner.run(harness.spec(text), out_dir=tmp_path / "taken" / "run")
    assert harness.store.journal.list_runs() == []  # refused before the run existed


async def test_a_video_of_the_wrong_length_is_bad_output_and_falls_back(
    harness: Harness, tmp_path: Path
) -> None:
    text = (
        "name: length\nsteps:\n"
        "  - id: clip\n    task: text-to-video\n"
        "    prompt: {subject: a can, style: photo, duration_s: 1.0}\n"
        "    params: {fail_rate: 1, fail_kind: wrong_duration, fail_model: fake/video-a}\n"
        "    route: {policy: fastest, fallbacks: 1}\n"
    )
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded", outcome.errors
    ledger = harness.store.journal.attempts(outcome.run_id)
    assert [(a.model, a.status, a.error_code) for a in ledger] == [
        ("fake/video-a@1", "failed", "bad_output"),
        ("fake/video-b@1", "succeeded", None),
    ]
    assert "lasts 1.50 s, expected 1.00 s" in (ledger[0].error or "")
    assert verify_output(tmp_path / "clip.mp4", "video")["duration_s"] == 1.0


async def test_a_run_with_artifacts_behind_an_fsspec_url(podium_home: Path, tmp_path: Path) -> None:
    import uuid

    import fsspec

    from podium.settings import Settings
    from podium.store.open import open_store

    from .conftest import build

    url = f"memory://podium-run-{uuid.uuid4().hex}/artifacts"
    settings = Settings(home=podium_home, enable_fake=True, artifact_url=url)
    h = build(settings, open_store(settings))
    text = (
        "name: remote-bytes\nsteps:\n"
        "  - {id: a, task: text, prompt: kept elsewhere, route: {pin: fake/text-a}}\n"
        "  - {id: b, task: text, prompt: 'after ${steps.a.output}', route: {pin: fake/text-a}}\n"
    )
    try:
        first = await h.runner.run(h.spec(text), out_dir=tmp_path / "one")
        assert first.status == "succeeded", first.errors
        fs, root = fsspec.core.url_to_fs(url)
        for out in first.outputs:  # the bytes live behind the URL, under their hash
            blob = f"{root}/{out.sha256[:2]}/{out.sha256[2:]}.txt"
            assert fs.cat_file(blob) == out.path.read_bytes()
        assert (tmp_path / "one" / "b.txt").read_text().startswith("after kept elsewhere")
        again = await h.runner.run(h.spec(text), out_dir=tmp_path / "two")
        assert [a.cache_hit for a in h.store.journal.attempts(again.run_id)] == [True, True]
        assert (tmp_path / "two" / "b.txt").read_bytes() == (
            tmp_path / "one" / "b.txt"
        ).read_bytes()
    finally:
        await h.registry.aclose()
        h.store.close()


async def test_two_runs_at_once_share_a_daily_budget_without_overshooting(
    podium_home: Path, tmp_path: Path
) -> None:
    # two runners, each on its own connection to one SQLite file, as two processes would be.
    # Started together, both read the day's spend ($0) before either reserves anything; each
    # alone fits the $1.00 global daily budget exactly (10 paid steps of $0.10, all in flight)
    import asyncio

    from podium.settings import Settings
    from podium.store.open import open_store

    from .conftest import build

    settings = Settings(home=podium_home, enable_fake=True, budget_daily_usd=1.0)
    harnesses = [build(settings, open_store(settings)) for _ in range(2)]
    steps = "".join(
        f"  - {{id: s{i}, task: text, prompt: p{i}, cache: false, route: {{pin: fake/text-a}},\n"
        f"     params: {{cost_usd: 0.1, latency_s: 0.2}}}}\n"
        for i in range(10)
    )
    text = f"name: daily\nsteps:\n{steps}"
    try:
        outcomes = await asyncio.gather(
            *(
                h.runner.run(h.spec(text), out_dir=tmp_path / f"o{i}")
                for i, h in enumerate(harnesses)
            )
        )
        assert sum(o.cost_usd for o in outcomes) == pytest.approx(1.0)  # not $2.00
        refused = [
            a
            for o in outcomes
            for a in harnesses[0].store.journal.attempts(o.run_id)
            if a.error_code == "budget_exceeded"
        ]
        assert len(refused) == 10
        assert all("global daily (budget_daily_usd)" in (a.error or "") for a in refused)
    finally:
        for h in harnesses:
            await h.registry.aclose()
            h.store.close()


async def test_text_and_json_inputs_are_values_not_files(harness: Harness, tmp_path: Path) -> None:
    text = (
        "name: values\n"
        "inputs:\n"
        "  note: {type: text, default: two lines}\n"
        '  spec: {type: json, default: {"size": 3}}\n'
        "steps:\n"
        "  - {id: a, task: text, prompt: 'note=${inputs.note} spec=${inputs.spec}',\n"
        "     route: {pin: fake/text-a}}\n"
    )
    outcome = await harness.runner.run(harness.spec(text), out_dir=tmp_path)
    assert outcome.status == "succeeded", outcome.errors
    written = (tmp_path / "a.txt").read_text()
    assert written.startswith("note=two lines spec=") and "size" in written


async def test_an_out_dir_that_fails_late_is_one_error_naming_it(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # /proc looks writable to root but takes no new folder: the failure comes from the copies
    # made off the loop, and must still be one PodiumError, every copy's error read
    import gc

    from podium.errors import PodiumError

    text = (
        "name: late\nsteps:\n"
        "  - {id: a, task: text, prompt: one, route: {pin: fake/text-a}}\n"
        "  - {id: b, task: text, prompt: 'two ${steps.a.output}', route: {pin: fake/text-a}}\n"
    )
    with pytest.raises(PodiumError, match="out dir /proc/podium-nowhere") as info:
        await harness.runner.run(harness.spec(text), out_dir=Path("/proc/podium-nowhere/out"))
    assert info.value.where == "--out" and "\n" not in str(info.value)
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_a_file_input_is_checked_before_any_model_gets_it(
    harness: Harness, tmp_path: Path
) -> None:
    from podium.testing.media import write_png

    text = f"""
name: edit
inputs:
  photo: {{type: image}}
steps:
  - id: e
    task: image-to-image
    inputs: {{image: "${{inputs.photo}}"}}
    prompt: {{subject: the can, {FIELDS}}}
    route: {{pin: fake/image-edit-a}}
"""
    (tmp_path / "notes.yaml").write_text("not: an image\n")
    (tmp_path / "folder").mkdir()
    for value, says in (
        ("notes.yaml", "notes.yaml is not a usable image"),
        ("folder", "folder is a folder"),
    ):
        spec = harness.spec(
            text.replace("{type: image}", f"{{type: image, default: {tmp_path / value}}}")
        )
        outcome = await harness.runner.run(spec, out_dir=tmp_path / "out")
        assert outcome.status == "failed"
        assert "inputs.photo" in outcome.errors["e"] and says in outcome.errors["e"]
        assert harness.attempts(outcome.run_id) == []  # no model was paid to find out
    write_png(tmp_path / "can.png", width=24, height=16)
    spec = harness.spec(
        text.replace("{type: image}", f"{{type: image, default: {tmp_path / 'can.png'}}}")
    )
    outcome = await harness.runner.run(spec, out_dir=tmp_path / "ok")
    assert outcome.status == "succeeded", outcome.errors
