"""``podium validate`` and ``podium schema`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli import app
from tests.spec.specfiles import SpecFile

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello.yaml"
runner = CliRunner()


def test_valid_example_exits_zero() -> None:
    result = runner.invoke(app, ["validate", str(HELLO)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "0 error(s), 0 warning(s) — ok" in result.stderr


def test_set_changes_inputs_and_bad_set_fails(spec_file: SpecFile) -> None:
    assert runner.invoke(app, ["validate", str(HELLO), "--set", "product=Cola"]).exit_code == 0
    result = runner.invoke(app, ["validate", str(HELLO), "--set", "prodcut=Cola", "--set", "oops"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "--set: error: --set 'oops' is not key=value — write --set name=value" in lines
    assert any(
        "declares no input 'prodcut'" in ln and "did you mean 'product'?" in ln for ln in lines
    )


def test_errors_print_one_line_each_and_exit_one(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: text
            promt: hi
        """
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:3:5: error: steps[0]: task text needs a prompt — add `prompt:` (a string, "
        "or the fields template, text)",
        f"{path}:5:5: error: steps[0].promt: unknown key 'promt' — did you mean 'prompt'?",
    ]
    assert result.stderr == f"{path}: 2 error(s), 0 warning(s)\n"


def test_warnings_pass_unless_strict(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: shot
            task: text-to-video
            prompt: man running in the forest
        """
    )
    env = {"PODIUM_ENABLE_FAKE": "1"}
    loose = runner.invoke(app, ["validate", str(path), "--json"], env=env)
    assert loose.exit_code == 0
    doc = json.loads(loose.stdout)
    lint = [p for p in doc["problems"] if p["code"] == "lint"]
    assert len(lint) == 1 and lint[0]["severity"] == "warning"
    assert lint[0]["message"] == "video prompt says nothing about camera or duration_s"
    strict = runner.invoke(app, ["validate", str(path), "--strict", "--json"], env=env)
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["ok"] is False


def test_json_is_one_document(spec_file: SpecFile) -> None:
    result = runner.invoke(app, ["validate", str(HELLO), "--json"])
    doc = json.loads(result.stdout)
    assert doc == {"file": str(HELLO), "ok": True, "errors": 0, "warnings": 0, "problems": []}


@pytest.mark.parametrize(
    "content",
    [None, b"", b"\x00\x01\x02binary", b"\xff\xfe\xfa", b"steps: [\n", b"[1, 2]", b"a: b: c"],
    ids=["directory", "empty", "nul", "not-utf8", "unclosed", "list", "bad-mapping"],
)
def test_never_a_traceback(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path
    if content is not None:
        path = tmp_path / "x.yaml"
        path.write_bytes(content)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "podium"), "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    (line,) = proc.stdout.splitlines()
    assert line.startswith(f"{path}") and ": error: " in line and " — " in line


def test_missing_file() -> None:
    result = runner.invoke(app, ["validate", "no/such/spec.yaml"])
    assert result.exit_code == 1
    assert result.stdout == "no/such/spec.yaml: error: no such file — check the path\n"


def test_schema_is_json_and_checks_prompts_per_task() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    from podium.spec.source import parse_yaml

    hello, _ = parse_yaml(HELLO.read_text())
    jsonschema.validate(hello, schema)
    bad = {"name": "p", "steps": [{"id": "a", "task": "text-to-image", "prompt": {"lightng": "x"}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    good = {
        "name": "p",
        "steps": [{"id": "a", "task": "text-to-image", "prompt": {"lighting": "x"}}],
    }
    jsonschema.validate(good, schema)
