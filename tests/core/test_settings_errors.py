"""A wrong setting, podium.toml, model card or CLI option: one line saying where and what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer

from podium.catalog.catalog import load_catalog
from podium.cli.testing import serve
from podium.errors import PodiumError, SpecError
from podium.settings import load_settings


def one_line(exc: pytest.ExceptionInfo[PodiumError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("var", "value", "says"),
    [
        ("PODIUM_WORKERS", "0", "greater than or equal to 1"),
        ("PODIUM_MAX_RETRY_AFTER_S", "-1", "greater than or equal to 0"),
        ("PODIUM_MAX_RETRY_AFTER_S", "inf", "finite number"),
        ("PODIUM_BREAKER_ERROR_RATE", "1.5", "less than or equal to 1"),
        ("PODIUM_BREAKER_ERROR_RATE", "nan", "finite number"),
        ("PODIUM_BREAKER_WINDOW", "0", "greater than or equal to 1"),
        ("PODIUM_BREAKER_FAILURES", "0", "greater than or equal to 1"),
        ("PODIUM_BREAKER_COOLDOWN_S", "nan", "finite number"),
        ("PODIUM_MIN_SAMPLES", "0", "greater than or equal to 1"),
        ("PODIUM_PROFILE", "nope", "'demo' or 'delivery'"),
        ("PODIUM_CATALOG_PATH", "/nonexistent/cards", "'/nonexistent/cards' does not exist"),
    ],
)
def test_a_senseless_setting_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, says: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(PodiumError) as exc:
        load_settings()
    line = one_line(exc)
    assert line.startswith(f"{var} or `{var.removeprefix('PODIUM_').lower()}` in podium.toml:")
    assert says in line and f"= {value!r}" in line


def test_the_defaults_and_sensible_edges_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().profile == "demo"
    for var, value in (("PODIUM_BREAKER_ERROR_RATE", "0"), ("PODIUM_BREAKER_COOLDOWN_S", "0")):
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("PODIUM_PROFILE", "delivery")
    assert load_settings().breaker_error_rate == 0.0


def test_a_catalog_path_must_name_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = tmp_path / "card.yaml"
    card.write_text("id: a/b\n")
    monkeypatch.setenv("PODIUM_CATALOG_PATH", f"{tmp_path}{os.pathsep}{card}")
    with pytest.raises(PodiumError, match="is not a directory") as exc:
        load_settings()
    assert f"{str(card)!r} is not a directory" in one_line(exc)
    monkeypatch.setenv("PODIUM_CATALOG_PATH", f"{tmp_path}{os.pathsep}")
    assert load_settings().catalog_dirs == [tmp_path]


def test_other_podium_variables_in_the_environment_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("PODIUM_DEBUG", "PODIUM_FAKE_REMOTE_URL", "PODIUM_SOUNDFONT", "PODIUM_NO_SUCH"):
        monkeypatch.setenv(var, "1")
    assert load_settings().workers >= 1


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        (b"workers =\n", "podium.toml:1:10: not valid TOML: Invalid value — fix the syntax"),
        (b"workers = 1\nworkers = 2\n", "podium.toml:2:12: not valid TOML: Cannot overwrite"),
        (b"workers = 1\n# caf\xe9\n", "podium.toml:2: not UTF-8 text (byte 0xe9) — save"),
        (b"wrokers = 2\n", "podium.toml: unknown setting 'wrokers' — did you mean 'workers'?"),
        (b"[zzz]\nx = 1\n", "podium.toml: unknown setting 'zzz' — remove it"),
    ],
)
def test_a_broken_podium_toml_is_one_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: bytes, says: str
) -> None:
    (tmp_path / "podium.toml").write_bytes(toml)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PodiumError) as exc:
        load_settings()
    assert one_line(exc).startswith(says)


def test_a_good_podium_toml_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "podium.toml").write_text('workers = 3\nprofile = "delivery"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.workers, settings.profile) == (3, "delivery")


def test_a_card_that_is_not_utf8_is_one_problem_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(b"id: x/y\nnotes: caf\xe9\n")
    with pytest.raises(SpecError) as exc:
        load_catalog([tmp_path], shipped=False)
    (problem,) = exc.value.problems
    assert problem.one_line() == (
        f"{tmp_path / 'bad.yaml'}:2: error: not UTF-8 text (byte 0xe9) — save the card as UTF-8"
    )


@pytest.mark.parametrize(
    ("port", "faults", "says"),
    [
        (99999, "", "error: --port: 99999 is not a port — pass a number from 1 to 65535"),
        (0, "", "error: --port: 0 is not a port"),
        (8000, "[1]", "error: --faults: expected a JSON object of fault knobs, not [1] — e.g."),
        (8000, '{"nope": 1}', "error: --faults: unknown fault knob 'nope'; known: corrupt,"),
        (8000, "{", "error: --faults: Expecting property name"),
    ],
)
def test_testing_serve_refuses_a_bad_port_or_faults_in_one_line(
    capsys: pytest.CaptureFixture[str], port: int, faults: str, says: str
) -> None:
    with pytest.raises(typer.Exit) as exc:
        serve("fal", port=port, host="127.0.0.1", faults=faults)
    assert exc.value.exit_code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(says)
