"""Run summaries, lineage and diff over runs written through the store interfaces."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

from PIL import Image

from podium.report.diff import diff_runs
from podium.report.lineage import describe, lineage_tree
from podium.report.summary import write_summary
from podium.store.open import Store
from tests.report.populate import CUT, FLUX, STUDIO, TEMPLATE, populate


def test_summary_json_holds_steps_attempts_decisions_and_conformance(
    store: Store, tmp_path: Path
) -> None:
    made = populate(store, tmp_path)
    json_path, html_path = write_summary(
        made.run_ids[0], store.journal, store.artifacts, made.out_dirs[0]
    )
    assert json_path == made.out_dirs[0] / "summary.json" and html_path.exists()
    doc = json.loads(json_path.read_text())
    assert doc["run"]["status"] == "succeeded" and doc["run"]["pipeline"] == "promo"
    assert [s["key"] for s in doc["steps"]] == ["script", "hero[0]", "hero[1]", "cut"]
    hero = doc["steps"][1]
    assert hero["model"] == FLUX
    assert [(a["status"], a["error_code"]) for a in hero["attempts"]] == [
        ("failed", "transient"),
        ("succeeded", None),
    ]
    assert hero["attempts"][0]["error"] == "HTTP 503 from fal"
    assert hero["outputs"][0]["file"] == "hero-0.png"
    assert hero["decision"]["chosen"] == FLUX
    assert doc["decisions"]["hero"]["fallbacks"] == [STUDIO]
    assert doc["totals"]["cost_usd"] == sum(
        a["cost_usd"] for s in doc["steps"] for a in s["attempts"]
    )
    assert doc["totals"]["failed_attempts"] == 1
    (conf,) = doc["conformance"]
    assert conf["file"] == "cut.mp4" and conf["passed"] is True
    assert {c["name"] for c in conf["checks"]} == {"duration_s", "loudness_lufs"}
    files = {a["file"] for a in doc["artifacts"]}
    assert files == {"script.txt", "hero-0.png", "hero-1.png", "cut.mp4"}


def test_summary_html_is_self_contained_and_explains_decisions(
    store: Store, tmp_path: Path
) -> None:
    made = populate(store, tmp_path)
    _, html_path = write_summary(made.run_ids[1], store.journal, store.artifacts, made.out_dirs[1])
    html = html_path.read_text()
    # nothing fetched from elsewhere: no external scripts, styles, fonts or images
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "@import" not in html and "url(" not in html
    # the decision: chosen model, fallback, the excluded candidate and its reason
    assert STUDIO in html and FLUX in html
    assert "OPENAI_API_KEY is not set" in html and "unavailable" in html
    # a timeline bar per step, a cache hit shown as such, the failed conformance check
    assert html.count('class="bar ') == 4 and "cache hit" in html
    assert "loudness_lufs" in html and ">fail<" in html
    assert "Variants scored by local/quality-score@1" in html
    # image outputs become small embedded PNG thumbnails; files are linked
    thumbs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(thumbs) == 2
    with Image.open(io.BytesIO(base64.b64decode(thumbs[0]))) as img:
        assert max(img.size) <= 160 and img.format == "PNG"
    assert 'href="hero-0.png"' in html and 'href="cut.mp4"' in html


def test_lineage_goes_back_to_the_script(store: Store, tmp_path: Path) -> None:
    made = populate(store, tmp_path)
    tree = lineage_tree(made.artifacts["cut0"].sha256[:10], store.artifacts)
    assert tree["step"] == "cut" and tree["model"] == CUT
    heroes = tree["inputs"]
    assert [h["step"] for h in heroes] == ["hero", "hero"]
    assert [h["seed"] for h in heroes] == [0, 1] and heroes[0]["model"] == FLUX
    assert heroes[0]["params"] == {"steps": 28}
    script = heroes[0]["inputs"][0]
    assert script["step"] == "script" and script["model"] == TEMPLATE
    assert heroes[1]["inputs"][0] == {"sha256": script["sha256"], "seen": True}
    assert "seed 1" in describe(heroes[1]) and FLUX in describe(heroes[1])


def test_diff_names_what_changed(store: Store, tmp_path: Path) -> None:
    made = populate(store, tmp_path)
    doc = diff_runs(made.run_ids[0][:8], made.run_ids[1], store.journal, store.artifacts)
    by_key = {row["key"]: row for row in doc["steps"]}
    assert by_key["script"]["change"] == "same"
    assert "model" in by_key["hero[1]"]["changes"] and "params" in by_key["hero[1]"]["changes"]
    assert by_key["hero[1]"]["a"]["model"] == FLUX and by_key["hero[1]"]["b"]["model"] == STUDIO
    assert by_key["cut"]["changes"] == ["output"]
    assert doc["counts"] == {"same": 1, "changed": 3, "added": 0, "removed": 0}
    assert doc["cost_usd"]["a"] > doc["cost_usd"]["b"] == 0.0
    same = diff_runs(made.run_ids[0], made.run_ids[0], store.journal, store.artifacts)
    assert same["counts"]["changed"] == 0 and not same["spec_changed"]


def test_lineage_ends_at_named_pipeline_inputs(store: Store, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(logo)
    given = store.artifacts.put(logo, "image", lineage={"input": "logo"})
    made = tmp_path / "end.png"
    Image.new("RGB", (8, 8), (0, 0, 255)).save(made)
    end = store.artifacts.put(
        made,
        "image",
        lineage={
            "step": "endcard",
            "key": "endcard[2]",
            "model": "local/studio",
            "version": "1.0.0",
            "inputs": {"logo": given.sha256, "tagline": "Taste the summer."},
            "seed": 7,
        },
    )
    tree = lineage_tree(end.sha256, store.artifacts)
    assert describe(tree).startswith(f"{end.sha256[:12]} image · step endcard[2]")
    assert "local/studio@1.0.0" in describe(tree) and "seed 7" in describe(tree)
    logo_node, literal = tree["inputs"]
    assert describe(logo_node) == f"logo: {given.sha256[:12]} image — pipeline input 'logo'"
    assert describe(literal) == "tagline: input 'Taste the summer.'"


def test_failed_run_summary_escapes_text_and_shows_the_reason(store: Store, tmp_path: Path) -> None:
    from tests.store.records import attempt, run, step

    planned = {"steps": [{"id": "hero", "chosen": "fal/flux@1"}, {"id": "cut", "chosen": "c@1"}]}
    store.journal.create_run(
        run("bad1", status="failed", error="hero: no model <b>left</b>", plan=planned)
    )
    store.journal.put_step(
        step(
            "bad1",
            "hero",
            status="failed",
            error_code="refused",
            error="<script>x</script>",
            decision={"id": "hero", "chosen": "local/studio@1"},  # decided again at run time
        )
    )
    store.journal.put_attempt(
        attempt("f1", "bad1", step_key="hero", status="failed", error_code="refused")
    )
    store.journal.put_step(step("bad1", "cut", status="pending"))
    json_path, html_path = write_summary("bad1", store.journal, store.artifacts, tmp_path / "o")
    doc = json.loads(json_path.read_text())
    assert doc["totals"]["failed"] == 1 and doc["steps"][1]["duration_s"] is None
    assert doc["decisions"]["hero"]["chosen"] == "local/studio@1"
    assert doc["decisions"]["cut"]["chosen"] == "c@1"
    html = html_path.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "no model &lt;b&gt;left&lt;/b&gt;" in html and "refused" in html
    assert "No output carries conformance checks." in html


def test_a_variant_without_times_takes_them_from_its_attempts(store: Store, tmp_path: Path) -> None:
    from tests.store.records import attempt, run, step

    store.journal.create_run(run("v1", status="succeeded"))
    store.journal.put_step(step("v1", "shot[0]"))
    store.journal.put_attempt(
        attempt("x1", "v1", step_key="shot[0]", started_at=100.0, latency_s=0.5,
                status="failed", error_code="transient")
    )  # fmt: skip
    store.journal.put_attempt(attempt("x2", "v1", step_key="shot[0]", started_at=101.0,
                                      latency_s=2.0))  # fmt: skip
    doc = run_document_for(store, "v1")
    (shot,) = doc["steps"]
    assert (shot["started_at"], shot["finished_at"], shot["duration_s"]) == (100.0, 103.0, 3.0)
    assert [a["duration_s"] for a in shot["attempts"]] == [0.5, 2.0]


def run_document_for(store: Store, run_id: str) -> dict:
    from podium.report.summary import run_document

    return run_document(run_id, store.journal, store.artifacts)
