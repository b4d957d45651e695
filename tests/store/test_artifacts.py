"""Content-addressed artifacts: stored once, verified by hash, found by prefix, via fsspec."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from podium.store.artifacts import FileArtifactStore
from podium.store.open import Store


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _blobs(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".tmp")]


def test_same_bytes_are_stored_once(store: Store, tmp_path: Path) -> None:
    data = b"\x89PNG fake but bytes are bytes" * 50
    first = store.artifacts.put(
        _file(tmp_path, "a.png", data),
        "image",
        metadata={"width": 64},
        lineage={"step": "hero", "model": "fake/image@1"},
    )
    second = store.artifacts.put(
        _file(tmp_path, "b.png", data), "image", metadata={"conformance": {"ok": True}}
    )
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert len(store.artifacts.all()) == 1
    # the first maker's lineage stays; later metadata is merged in
    assert second.lineage["step"] == "hero"
    assert second.metadata == {"width": 64, "conformance": {"ok": True}}
    local = store.artifacts.path(first.sha256)
    assert local.read_bytes() == data and local.suffix == ".png"
    assert local.parent.name == first.sha256[:2] and local.stem == first.sha256[2:]
    assert len(_blobs(local.parent.parent)) == 1


def test_corrupt_bytes_fail_verification(store: Store, tmp_path: Path) -> None:
    rec = store.artifacts.put(_file(tmp_path, "v.wav", b"RIFF" + b"\0" * 400), "audio")
    assert store.artifacts.exists(rec.sha256)
    store.artifacts.path(rec.sha256).write_bytes(b"RIFF" + b"\1" * 400)
    assert not store.artifacts.exists(rec.sha256)


def test_prefix_lookup_and_clear_errors(store: Store, tmp_path: Path) -> None:
    rec = store.artifacts.put(_file(tmp_path, "t.txt", b"hello"), "text")
    assert store.artifacts.get(rec.sha256[:8]).sha256 == rec.sha256
    assert store.artifacts.get(rec.sha256.upper()).sha256 == rec.sha256
    with pytest.raises(KeyError, match="at least 8"):
        store.artifacts.get(rec.sha256[:5])
    with pytest.raises(KeyError, match="no artifact"):
        store.artifacts.get("f" * 12 if not rec.sha256.startswith("f") else "0" * 12)
    assert not store.artifacts.exists("0" * 64)


def test_delete_frees_bytes(store: Store, tmp_path: Path) -> None:
    rec = store.artifacts.put(_file(tmp_path, "m.glb", b"glTF" * 256), "mesh")
    path = store.artifacts.path(rec.sha256)
    assert store.artifacts.delete(rec.sha256) == 1024
    assert not path.exists() and store.artifacts.all() == []
    assert store.artifacts.delete(rec.sha256) == 0


def test_ext_defaults_from_type(store: Store, tmp_path: Path) -> None:
    rec = store.artifacts.put(_file(tmp_path, "noext", b'{"a": 1}'), "json")
    assert rec.ext == "json" and store.artifacts.path(rec.sha256).suffix == ".json"


def test_fsspec_url_is_materialised_and_verified(tmp_path: Path) -> None:
    import fsspec

    url = f"memory://podium-test-{uuid.uuid4().hex}/artifacts"
    store = FileArtifactStore(url, cache_dir=tmp_path / "cache")
    data = b"ID3 fake mp3 bytes" * 20
    rec = store.put(_file(tmp_path, "m.mp3", data), "audio")
    fs, root = fsspec.core.url_to_fs(url)
    remote = f"{root}/{rec.sha256[:2]}/{rec.sha256[2:]}.mp3"
    assert fs.cat_file(remote) == data
    # a second process (a fresh cache dir) materialises the bytes from the URL
    other = FileArtifactStore(url, index=store.index, cache_dir=tmp_path / "cache2")
    local = other.path(rec.sha256)
    assert local.is_relative_to(tmp_path / "cache2") and local.read_bytes() == data
    assert other.exists(rec.sha256)
    fs.pipe_file(remote, b"tampered")
    third = FileArtifactStore(url, index=store.index, cache_dir=tmp_path / "cache3")
    assert not third.exists(rec.sha256)
    with pytest.raises(OSError, match="corrupt"):
        third.path(rec.sha256)
    assert other.delete(rec.sha256) == len(data)
    assert not fs.exists(remote)


def test_same_bytes_under_another_suffix_keep_one_file(store: Store, tmp_path: Path) -> None:
    data = b"same bytes, two names" * 10
    first = store.artifacts.put(_file(tmp_path, "a.txt", data), "text")
    again = store.artifacts.put(_file(tmp_path, "a.md", data), "text")
    assert again.ext == first.ext == "txt"
    root = store.artifacts.path(first.sha256).parent.parent
    assert len(_blobs(root)) == 1


def test_storing_again_heals_damaged_bytes(store: Store, tmp_path: Path) -> None:
    data = b"precious" * 100
    rec = store.artifacts.put(_file(tmp_path, "p.bin", data), "json")
    store.artifacts.path(rec.sha256).write_bytes(b"x" * len(data))  # same size, wrong bytes
    assert not store.artifacts.exists(rec.sha256)
    store.artifacts.put(_file(tmp_path, "p2.bin", data), "json")
    assert store.artifacts.exists(rec.sha256)
