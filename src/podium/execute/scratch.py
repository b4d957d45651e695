"""Scratch directories for attempts, reused instead of made and removed for each one.

A provider writes an attempt's outputs into its own empty directory; the runner moves them into
the artifact store from there (a rename, on the same filesystem as the store). Making and
removing a directory per attempt allocates and frees an inode each time, which on a busy
filesystem costs as much as the rest of a small step. So a directory whose attempt succeeded
and left nothing behind goes back into a free list and serves a later attempt, of this run or
the next; anything else (a failed or cancelled attempt, whose engine may still be writing, or
leftover files) is removed. The directories live under one folder per runner, removed when the
runner goes away.
"""

from __future__ import annotations

import os
import shutil
import uuid
import weakref
from pathlib import Path


class ScratchDirs:
    """Empty directories for attempts under ``root``, recycled after clean successes.

    Args:
        home: the store's home (``settings.home``); directories go under ``home/work/<id>``,
            on the same filesystem as the artifacts, so an output is moved, not copied.
    """

    def __init__(self, home: Path) -> None:
        self.root = home / "work" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._free: list[Path] = []
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.root, True)

    def take(self, name: str) -> Path:
        """An empty directory for one attempt (``name`` names a new one)."""
        try:
            return self._free.pop()
        except IndexError:
            path = self.root / name
            path.mkdir(parents=True, exist_ok=True)
            return path

    def recycle(self, path: Path) -> None:
        """Keep ``path`` for a later attempt if it is empty, else remove it (off the loop).

        Call only once nothing writes into it any more (its attempt returned its result).
        """
        try:
            with os.scandir(path) as entries:
                empty = next(entries, None) is None
        except OSError:
            return  # already gone
        if empty:
            self._free.append(path)  # list.append is atomic: safe from a worker thread
        else:
            shutil.rmtree(path, ignore_errors=True)

    @staticmethod
    def remove(path: Path) -> None:
        """Remove an attempt's directory and whatever is in it."""
        shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        """Remove every directory (call when no attempt runs)."""
        self._free.clear()
        self._finalizer()
