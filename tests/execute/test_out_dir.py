"""The out dir: each output is a hard link to the store's read-only copy, or a copy elsewhere."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from podium.execute.commit import place_out

from .conftest import Harness

TWO = """
name: out
steps:
  - {id: a, task: text, prompt: one, route: {pin: fake/text-a}}
  - {id: b, task: text, prompt: 'two ${steps.a.output}', route: {pin: fake/text-a}}
"""


def _writable(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


async def test_outputs_are_read_only_links_to_the_stored_bytes(
    harness: Harness, tmp_path: Path
) -> None:
    outcome = await harness.runner.run(harness.spec(TWO), out_dir=tmp_path / "out")
    assert outcome.status == "succeeded", outcome.errors
    for output in outcome.outputs:
        stored = harness.store.artifacts.path(output.sha256)
        assert os.path.samefile(output.path, stored)  # no second copy of the bytes
        assert not _writable(output.path)


async def test_an_output_edited_in_place_does_not_poison_the_cache(
    harness: Harness, tmp_path: Path
) -> None:
    first = await harness.runner.run(harness.spec(TWO), out_dir=tmp_path / "1")
    edited = tmp_path / "1" / "a.txt"
    good = edited.read_bytes()
    # a user (or root, whom the mode does not stop) forces an edit through the link
    edited.chmod(0o644)
    edited.write_bytes(b"edited by hand")
    second = await harness.runner.run(harness.spec(TWO), out_dir=tmp_path / "2")
    assert second.status == "succeeded", second.errors
    # the damaged stored copy is not reused: the step runs again and the store is healed
    statuses = {a.step_key: a.status for a in harness.store.journal.attempts(second.run_id)}
    assert statuses["a"] == "succeeded"
    assert (tmp_path / "2" / "a.txt").read_bytes() == good
    assert harness.store.artifacts.exists(first.outputs[0].sha256)
    assert edited.read_bytes() == b"edited by hand"  # the user's file is left as they made it


def test_a_name_already_there_is_replaced_not_written_through(tmp_path: Path) -> None:
    old, new, out = tmp_path / "old", tmp_path / "new", tmp_path / "out"
    old.write_bytes(b"old bytes")
    new.write_bytes(b"new bytes")
    os.link(old, out)  # an earlier run's output, linked to another stored file
    place_out(new, out)
    assert out.read_bytes() == b"new bytes" and old.read_bytes() == b"old bytes"
    assert os.path.samefile(out, new) and not _writable(new)
    place_out(new, out)  # already that file: left as it is
    assert os.path.samefile(out, new)


def test_another_filesystem_gets_a_copy(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    src = tmp_path / "stored.txt"
    src.write_bytes(b"stored bytes")
    out_dir = shm / f"podium-test-{os.getpid()}"
    out_dir.mkdir(exist_ok=True)
    try:
        dst = out_dir / "a.txt"
        dst.write_bytes(b"an earlier copy")
        place_out(src, dst)
        assert dst.read_bytes() == b"stored bytes" and not os.path.samefile(src, dst)
    finally:
        for f in out_dir.iterdir():
            f.unlink()
        out_dir.rmdir()
