"""Content-addressed artifact storage: bytes once by sha256, records in an index.

The bytes live under a root as ``ab/cdef....ext`` — a local directory, or any fsspec URL
(``s3://bucket/podium``, ``memory://x``) materialised into a local cache directory when a
caller needs a path. Records (type, metadata, lineage) live in an :class:`ArtifactIndex`: a dict
in memory, or the ``artifacts`` table of the SQL store.

A write streams the source into a temporary file while hashing it, fsyncs it and renames it
into place, so a crash never leaves a half-written artifact under its final name. A file the
store may *take* (an attempt's output in its scratch directory, same filesystem) is hashed and
fdatasynced where it lies and renamed in, instead of being written a second time.

A taken file put with ``later`` (the runner's outputs) is linked under its final name at once,
so dependent steps can read it, and made durable by :meth:`FileArtifactStore.settle` — for many
files at once: writeback started for all, then one ``fdatasync`` each (the first carries the
group), then each directory — which only then holds the records. It is never linked over a copy
already there (that one may be durable; a damaged one is replaced the durable way).

What is guaranteed (``fsync=True``): the bytes and their name are on disk before the record
can be committed, hence before the journal names the artifact. Against a killed process
nothing is lost either way. Against power loss the journal itself (SQLite WAL,
``synchronous=NORMAL``) may lose its last commits; a name linked by ``later`` whose settle had
not finished may hold partial bytes, but no durable record names it and the next write of
those bytes replaces it; and whatever a resume reuses is re-hashed first
(:meth:`FileArtifactStore.exists`).
"""

from __future__ import annotations

import abc
import ctypes
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from podium.errors import InvalidInput, Unavailable
from podium.store.base import ArtifactStore
from podium.store.records import ArtifactRecord

CHUNK = 1 << 20
MIN_PREFIX = 8
DEFAULT_EXT = {
    "image": "png",
    "video": "mp4",
    "audio": "wav",
    "subtitles": "srt",
    "midi": "mid",
    "mesh": "glb",
    "text": "txt",
    "json": "json",
}


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def blob_name(sha256: str, ext: str) -> str:
    """The relative name of an artifact's bytes: ``ab/cdef....ext``."""
    return f"{sha256[:2]}/{sha256[2:]}.{ext}" if ext else f"{sha256[:2]}/{sha256[2:]}"


def _fsync_dir(path: Path) -> None:
    # the rename is only durable once the directory entry is on disk
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _start_writeback(fd: int) -> None:
    """Start writing a file's dirty pages without waiting (Linux ``sync_file_range``).

    So the ``fdatasync`` of a group finds every file's blocks allocated and in flight, and one
    filesystem commit covers them; elsewhere it does nothing and each ``fdatasync`` does it all.
    """
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, 2)  # SYNC_FILE_RANGE_WRITE: best effort, result ignored


def _libc_sync_file_range() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    func.restype = ctypes.c_int
    return func


_SYNC_FILE_RANGE = _libc_sync_file_range()


def _copy_hashing(src: Path, dst_dir: Path, sync: bool = True) -> tuple[Path, str, int]:
    """Copy ``src`` into a (fsynced) temporary file in ``dst_dir``; return (tmp, sha256, size)."""
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=dst_dir, prefix=".tmp-")
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(CHUNK):
                digest.update(chunk)
                fout.write(chunk)
                size += len(chunk)
            fout.flush()
            if sync:
                os.fsync(fout.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), digest.hexdigest(), size


class ArtifactIndex(abc.ABC):
    """Where artifact records live (the bytes live in an :class:`ArtifactStore`'s root)."""

    @abc.abstractmethod
    def save(self, record: ArtifactRecord) -> None:
        """Insert or replace a record."""

    @abc.abstractmethod
    def find(self, prefix: str) -> list[ArtifactRecord]:
        """Records whose sha256 starts with ``prefix`` (at most a few)."""

    @abc.abstractmethod
    def all(self) -> list[ArtifactRecord]:
        """Every record, oldest first."""

    @abc.abstractmethod
    def drop(self, sha256: str) -> None:
        """Forget a record."""

    def hold(self, record: ArtifactRecord) -> None:
        """Save a record with the store's next write, in its transaction (default: now).

        Readers of this index see it at once; it becomes durable with the journal write that
        says what the artifact is for, never later.
        """
        self.save(record)


class MemoryArtifactIndex(ArtifactIndex):
    """Artifact records in a dict (thread-safe)."""

    def __init__(self) -> None:
        self._records: dict[str, ArtifactRecord] = {}
        self._lock = threading.Lock()

    def save(self, record: ArtifactRecord) -> None:
        """Insert or replace a record."""
        with self._lock:
            self._records[record.sha256] = record

    def find(self, prefix: str) -> list[ArtifactRecord]:
        """Records whose sha256 starts with ``prefix``."""
        with self._lock:
            exact = self._records.get(prefix)
            if exact is not None:
                return [exact]
            return [r for sha, r in self._records.items() if sha.startswith(prefix)]

    def all(self) -> list[ArtifactRecord]:
        """Every record, oldest first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r.created_at)

    def drop(self, sha256: str) -> None:
        """Forget a record."""
        with self._lock:
            self._records.pop(sha256, None)


def _open_url(url: str) -> tuple[Any, str]:
    """The fsspec filesystem and path of ``url``; a wrong URL is a one-line error."""
    import fsspec  # only when artifacts really live elsewhere
    from fsspec.registry import known_implementations

    protocol = url.partition("://")[0]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        # fsspec says "Install s3fs to access S3"; the module it could not import is the cause
        known = known_implementations.get(protocol, {})
        missing = getattr(exc.__cause__, "name", None) or known.get("class", "?").split(".")[0]
        raise Unavailable(
            f"artifacts at {protocol}:// need the {missing} package, which is not installed",
            where="PODIUM_ARTIFACT_URL",
            hint=f"pip install {missing}, or unset PODIUM_ARTIFACT_URL to keep them on disk",
        ) from None
    except ValueError as exc:  # "Protocol not known: nosuchproto"
        raise InvalidInput(
            f"cannot store artifacts there: {exc}",
            where="PODIUM_ARTIFACT_URL",
            hint="use a directory or an fsspec URL (s3://bucket/prefix, gs://..., memory://x)",
        ) from None
    return fs, str(path)


def _make_root(path: Path) -> None:
    """Create the directory artifacts (or their local copies) live in, or say why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidInput(
            "artifacts need a directory here, but a file is in the way",
            where=str(path),
            hint="move the file away, or point PODIUM_HOME or PODIUM_ARTIFACT_URL elsewhere",
        ) from None
    except OSError as exc:
        raise Unavailable(
            f"cannot create the artifact directory: {exc.strerror or exc}",
            where=str(path),
            hint="make it writable, or point PODIUM_HOME or PODIUM_ARTIFACT_URL elsewhere",
        ) from None


class FileArtifactStore(ArtifactStore):
    """Artifacts on disk (or any fsspec URL), content-addressed, records in an index.

    Args:
        root: a local directory or an fsspec URL (``s3://bucket/prefix``).
        index: where records live; a fresh in-memory index if omitted.
        cache_dir: where remote bytes are materialised for :meth:`path`
            (default ``<tmp>/podium-artifact-cache``).
        fsync: make each write durable against power loss before it returns (two fsyncs);
            without it a write still survives the process being killed.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        index: ArtifactIndex | None = None,
        cache_dir: Path | None = None,
        fsync: bool = True,
    ) -> None:
        self.root = str(root)
        self.fsync = fsync
        self.index = index or MemoryArtifactIndex()
        self._fs: Any = None
        self._remote_root = ""
        if "://" in self.root and not self.root.startswith("file://"):
            self._fs, self._remote_root = _open_url(self.root)
            self._local = cache_dir or Path(tempfile.gettempdir()) / "podium-artifact-cache"
        else:
            self._local = Path(self.root.removeprefix("file://"))
        _make_root(self._local)
        # directories known to exist: a mkdir per write is measurable in the per-step overhead
        self._dirs: set[Path] = set()

    def _dir(self, path: Path) -> Path:
        if path not in self._dirs:
            path.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path)
        return path

    @property
    def remote(self) -> bool:
        """Whether the bytes live behind an fsspec URL rather than on this disk."""
        return self._fs is not None

    def put(
        self,
        path: Path,
        type: str,
        *,
        metadata: dict[str, Any] | None = None,
        lineage: dict[str, Any] | None = None,
        hold: bool = False,
        take: bool = False,
        later: bool = False,
    ) -> ArtifactRecord:
        """Store the file's bytes (once) and its record; return the record.

        Args:
            path: the file to store; it is copied, never moved (unless ``take``).
            type: the artifact type (``image``, ``audio`` ...).
            metadata: media metadata; merged into an existing record's.
            lineage: what made it; kept from the first record that had one.
            hold: commit the record with the journal's next write (the runner's "attempt
                succeeded"), not in a transaction of its own; the bytes are in place first.
            take: the file is the store's from now on (an attempt's output in its scratch
                directory): on the same filesystem it is moved into place, not copied.
            later: with ``take``, place the bytes under their final name at once (readable
                there) but make them durable, and save the record, only in :meth:`settle`.
        """
        path = Path(path)
        if take and self._fs is None:
            taken = self._take(path, type, metadata, lineage, hold, later)
            if taken is not None:
                return taken
        tmp, sha, size = _copy_hashing(path, self._dir(self._local / ".tmp"), self.fsync)
        found = self.index.find(sha)
        # the same bytes keep the name they were first stored under, whatever this file's suffix
        ext = path.suffix.lstrip(".").lower() or DEFAULT_EXT.get(type, "")
        ext = found[0].ext if found else ext
        final = self._local / blob_name(sha, ext)
        try:
            # replacing even a present copy heals one damaged on disk, for one rename
            self._dir(final.parent)
            os.replace(tmp, final)
            if self.fsync:
                _fsync_dir(final.parent)
            if self._fs is not None:
                self._upload(final, blob_name(sha, ext))
        finally:
            tmp.unlink(missing_ok=True)
        old = found[0] if found else None
        return self._record(old, sha, type, ext, size, metadata or {}, lineage or {}, hold)

    def _take(
        self,
        path: Path,
        type: str,
        metadata: dict[str, Any] | None,
        lineage: dict[str, Any] | None,
        hold: bool,
        later: bool = False,
    ) -> ArtifactRecord | None:
        """Store ``path`` by renaming it into place: hashed and fdatasynced where it lies.

        Saves writing the bytes a second time (a new file, its data, its fsync) and a rename
        through ``.tmp``: the file is complete and durable before its final name appears.
        ``later``: see :meth:`_place_later`. ``None`` when it cannot be renamed there (another
        filesystem): the caller copies.
        """
        digest = hashlib.sha256()
        size = 0
        deferred = later and self.fsync
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
            if self.fsync and not deferred:
                os.fdatasync(fh.fileno())  # the data (and size) on disk before the rename
        sha = digest.hexdigest()
        found = self.index.find(sha)
        ext = path.suffix.lstrip(".").lower() or DEFAULT_EXT.get(type, "")
        ext = found[0].ext if found else ext
        final = self._local / blob_name(sha, ext)
        old = found[0] if found else None
        if deferred:
            placed = self._place_later(path, final, sha)
            if placed is None:
                return None
            if placed:
                return self._record(
                    old, sha, type, ext, size, metadata or {}, lineage or {}, save=False
                )
            with open(path, "rb") as fh:  # a damaged copy is there: replaced the durable way
                os.fdatasync(fh.fileno())
        try:
            os.replace(path, self._dir(final.parent) / final.name)
        except OSError:
            return None  # another filesystem (EXDEV) or not ours to move: copy instead
        if self.fsync:
            _fsync_dir(final.parent)
        save = not later  # a later record is saved by settle(), with everyone else's
        return self._record(old, sha, type, ext, size, metadata or {}, lineage or {}, hold, save)

    def _place_later(self, path: Path, final: Path, sha: str) -> bool | None:
        """Give ``path``'s bytes their final name now; :meth:`settle` makes them durable.

        The name is linked, never renamed over: a copy already there may be durable and named
        by the journal, and must not be swapped for bytes not yet on disk. A copy already there
        with the right hash serves as it is. Until :meth:`settle`, a power loss may leave the
        new name holding partial bytes — named by no durable record, and replaced by the next
        write of those bytes. True: placed; False: a damaged copy is in the way (the caller
        replaces it durably); None: not linkable here (another filesystem).
        """
        try:
            os.link(path, self._dir(final.parent) / final.name)
        except FileExistsError:
            if sha256_file(final) != sha:
                return False
        except OSError:
            return None
        os.unlink(path)
        return True

    def settle(self, records: Sequence[ArtifactRecord]) -> None:
        """Make the bytes of records stored with ``later`` durable, then hold their records.

        One call for many records costs about one journal commit of the filesystem, not two
        per file: writeback is started for every file first, so the first ``fdatasync``
        carries them all and the directory entries made before it.
        """
        if self.fsync and self._fs is None and records:
            paths = list(dict.fromkeys(self.path_of(r) for r in records))
            fds = [os.open(p, os.O_RDONLY) for p in paths]
            try:
                for fd in fds:
                    _start_writeback(fd)
                for fd in fds:
                    os.fdatasync(fd)
            finally:
                for fd in fds:
                    os.close(fd)
            for directory in dict.fromkeys(p.parent for p in paths):
                _fsync_dir(directory)
        for record in records:
            self.index.hold(record)

    def path_of(self, record: ArtifactRecord) -> Path:
        """A local file holding ``record``'s bytes, without looking the record up again."""
        if self._fs is not None:
            return self.path(record.sha256)
        return self._local / blob_name(record.sha256, record.ext)

    def _upload(self, local: Path, name: str) -> None:
        target = f"{self._remote_root}/{name}"
        if self._fs.exists(target):
            return
        partial = f"{self._remote_root}/.tmp/{uuid.uuid4().hex}"
        self._fs.put_file(str(local), partial)
        self._fs.mv(partial, target)

    def _record(
        self,
        old: ArtifactRecord | None,
        sha: str,
        type: str,
        ext: str,
        size: int,
        metadata: dict[str, Any],
        lineage: dict[str, Any],
        hold: bool = False,
        save: bool = True,
    ) -> ArtifactRecord:
        if old is not None:
            merged = {**old.metadata, **metadata}
            if merged == old.metadata and (old.lineage or not lineage):
                return old
            record = ArtifactRecord(
                sha256=sha,
                type=old.type,
                ext=old.ext,
                size=old.size,
                metadata=merged,
                lineage=old.lineage or lineage,
                created_at=old.created_at,
            )
        else:
            record = ArtifactRecord(sha, type, ext, size, metadata, lineage, time.time())
        if not save:
            pass  # the caller saves it (settle)
        elif hold:
            self.index.hold(record)
        else:
            self.index.save(record)
        return record

    def get(self, sha256: str) -> ArtifactRecord:
        """The record of an artifact (a prefix of 8+ hex digits is enough). KeyError if none."""
        prefix = sha256.strip().lower()
        if len(prefix) < MIN_PREFIX:
            raise KeyError(f"artifact id '{sha256}' is too short (give at least 8 hex digits)")
        found = self.index.find(prefix)
        if not found:
            raise KeyError(f"no artifact '{sha256}'")
        if len(found) > 1:
            raise KeyError(f"artifact id '{sha256}' is ambiguous ({len(found)} match)")
        return found[0]

    def path(self, sha256: str) -> Path:
        """A local file holding the artifact's bytes (materialised from remote storage)."""
        record = self.get(sha256)
        local = self._local / blob_name(record.sha256, record.ext)
        if self._fs is not None and not local.exists():
            self._download(record, local)
        return local

    def _download(self, record: ArtifactRecord, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=local.parent, prefix=".tmp-")
        os.close(fd)
        try:
            self._fs.get_file(f"{self._remote_root}/{blob_name(record.sha256, record.ext)}", name)
            if sha256_file(Path(name)) != record.sha256:
                raise OSError(f"artifact {record.sha256[:12]} is corrupt in {self.root}")
            os.replace(name, local)
        finally:
            Path(name).unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        """Whether the bytes are present and match their hash."""
        try:
            record = self.get(sha256)
        except KeyError:
            return False
        local = self._local / blob_name(record.sha256, record.ext)
        if self._fs is not None:
            name = f"{self._remote_root}/{blob_name(record.sha256, record.ext)}"
            if not self._fs.exists(name):
                return False
            if not local.exists():
                try:
                    self._download(record, local)
                except OSError:
                    return False
        return local.exists() and sha256_file(local) == record.sha256

    def all(self) -> Sequence[ArtifactRecord]:
        """Every artifact record, oldest first."""
        return self.index.all()

    def delete(self, sha256: str) -> int:
        """Remove an artifact's bytes and record; return bytes freed."""
        try:
            record = self.get(sha256)
        except KeyError:
            return 0
        name = blob_name(record.sha256, record.ext)
        local = self._local / name
        freed = 0
        if local.exists():
            freed = local.stat().st_size
            local.unlink()
        if self._fs is not None and self._fs.exists(f"{self._remote_root}/{name}"):
            self._fs.rm(f"{self._remote_root}/{name}")
            freed = record.size
        self.index.drop(record.sha256)
        return freed


class InMemoryArtifactStore(FileArtifactStore):
    """Artifacts in a private temporary directory, records in memory; for tests and benches.

    The directory is removed by :meth:`close`, or when the store is garbage-collected. Writes
    are not fsynced: nothing here outlives the process anyway.

    Args:
        root: a directory to use instead of a fresh temporary one (then never removed).
    """

    def __init__(self, root: Path | None = None) -> None:
        self._cleanup: weakref.finalize[Any, Any] | None = None
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="podium-artifacts-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, root, ignore_errors=True)
        super().__init__(root, fsync=False)

    def close(self) -> None:
        """Remove the temporary directory (if this store made it)."""
        if self._cleanup is not None:
            self._cleanup()
