"""Lock files round-trip and refuse to be misread."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.errors import InvalidInput
from podium.store.lockfile import load_lock, lock_path, read_lock, write_lock


def test_round_trip_keeps_step_order(tmp_path: Path) -> None:
    spec = tmp_path / "promo.yaml"
    spec.write_text("name: promo\n")
    assert read_lock(spec) is None
    steps = {"voice": "local/piper@1.2.0", "hero": "fal/flux-dev@2024-08", "cut": "local/cut@1"}
    path = write_lock(spec, "promo", "ab" * 32, steps)
    assert path == tmp_path / "promo.lock" == lock_path(spec)
    assert read_lock(spec) == steps
    assert list(read_lock(spec) or {}) == ["voice", "hero", "cut"]
    lock = load_lock(spec)
    assert lock is not None and lock.pipeline == "promo" and lock.spec_hash == "ab" * 32
    assert path.read_text().startswith("# Written by `podium lock`")
    # no temporary file left beside it
    assert sorted(p.name for p in tmp_path.glob("promo*")) == ["promo.lock", "promo.yaml"]
    assert not list(tmp_path.glob(".promo*"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: [oops\n", "not valid YAML"),
        ("pipeline: promo\n", "needs `steps:`"),
        ("steps:\n  hero: fal/flux\n", "needs `steps:`"),
    ],
)
def test_broken_lock_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "x.yaml"
    (tmp_path / "x.lock").write_text(text)
    with pytest.raises(InvalidInput, match=message) as info:
        read_lock(spec)
    assert "x.lock" in info.value.one_line() and "podium lock" in info.value.one_line()
