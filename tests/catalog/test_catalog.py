"""Loading cards: the fast loader reads exactly what the positioned loader reads, YAML 1.2
scalars included, and a broken card still reports its file and line."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from podium.catalog import load_catalog
from podium.catalog.catalog import SHIPPED, _load_card_file_located, load_card_file
from podium.catalog.quickyaml import load
from podium.errors import SpecError
from podium.testing import CARDS as FAKE_CARDS

ALL_CARD_FILES = sorted([*SHIPPED.rglob("*.yaml"), *FAKE_CARDS.rglob("*.yaml")])


@pytest.mark.parametrize("path", ALL_CARD_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_loader_reads_every_card_as_ruamel_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_card_file(path) == _load_card_file_located(path, text)


def test_yaml_1_2_scalars() -> None:
    text = (
        "a: yes\nb: no\nc: on\nd: off\ne: 16:9\nf: 017\ng: 0o17\nh: 0x1f\ni: 1.5\nj: .inf\n"
        "k: true\nl: FALSE\nm: ~\nn: 2025-01-01\no: -3\np: 1e3\nq: '1.0'\nr: 1:1\n"
    )
    data = load(text)
    expected = YAML(typ="rt").load(text)
    assert data == {k: expected[k] for k in expected}
    assert data["a"] == "yes" and data["d"] == "off" and data["e"] == "16:9"
    assert data["f"] == 17 and data["g"] == 15 and data["h"] == 31
    assert data["k"] is True and data["l"] is False and data["m"] is None
    assert math.isinf(data["j"]) and data["p"] == 1000.0 and data["q"] == "1.0"
    assert data["n"] == dt.date(2025, 1, 1)


def test_a_broken_card_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "- id: acme/ok\n  tasks: [text]\n- id: acme/bad\n  tasks: [text]\n  offline: maybe\n"
    )
    with pytest.raises(SpecError) as info:
        load_catalog([tmp_path], shipped=False)
    (problem,) = info.value.problems
    assert problem.file == str(tmp_path / "bad.yaml")
    assert problem.line == 3 and problem.path == "offline"
    (tmp_path / "bad.yaml").write_text("- id: acme/ok\n  tasks: [text\n")
    with pytest.raises(SpecError) as info:
        load_catalog([tmp_path], shipped=False)
    assert info.value.problems[0].message.startswith("not valid YAML")
    assert info.value.problems[0].line is not None


def test_user_cards_override_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "id: local/template\nversion: '9'\ntasks: [text]\noffline: true\n"
    )
    catalog = load_catalog([tmp_path])
    assert catalog.get("local/template").ref == "local/template@9"
    assert catalog.get("local/template@anything").version == "9"
