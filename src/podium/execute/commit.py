"""Batching on the runner's loop: one journal commit per wave of steps, housekeeping in bulk.

Steps that finish together (a wide level of the DAG, a hundred independent calls) each need
their records committed before they count. :class:`GroupCommit` holds each step's records and
commits everything held once, at the end of the loop iteration they arrived in; every waiter
returns only after that commit (or gets its error), so a step is still journaled before anything
acts on it — it only shares the commit. :class:`Chores` runs housekeeping (out-dir links,
scratch clean-up) on a background pool in batches, so a wave costs one thread hand-off, not one
per step.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from podium.errors import PodiumError
from podium.store.base import ArtifactStore, Journal
from podium.store.records import ArtifactRecord


class GroupCommit:
    """Commit what the journal holds once per loop iteration, for every step that asked.

    Args:
        journal: the run's journal (records are held with ``note_step``/``note_attempt``).
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._waiters: list[asyncio.Future[None]] = []

    async def __call__(self) -> None:
        """Return once everything held before the call is committed.

        Raises:
            Exception: the commit's error (the records stay held for the next write).
        """
        loop = asyncio.get_running_loop()
        if not self._waiters:
            # after the callbacks already queued: the steps finishing in this iteration join
            loop.call_soon(self._commit)
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        await waiter

    def _commit(self) -> None:
        waiters, self._waiters = self._waiters, []
        error: BaseException | None = None
        try:
            self.journal.flush()
        except Exception as exc:  # every waiter learns it; none is left hanging
            error = exc
        _answer(waiters, error)


class Chores:
    """Housekeeping off the loop, in batches: out-dir links and scratch directories to remove.

    Args:
        pool: the threads to run on (not the ones verifying and storing outputs).
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self._todo: list[Callable[[], None]] = []
        self._running: list[asyncio.Future[None]] = []
        self._errors: list[BaseException] = []  # of batches done and let go, for drain()

    def place(self, pairs: list[tuple[Path, Path]]) -> None:
        """Put each ``(stored file, out-dir name)`` in place (see :func:`place_out`)."""
        self.do(lambda: _place_all(pairs))

    def do(self, chore: Callable[[], None]) -> None:
        """Run ``chore`` on the pool with the others handed over in this loop iteration."""
        if not self._todo:
            loop = asyncio.get_running_loop()
            # gathered until the loop has run what is ready, then handed over as one batch
            loop.call_soon(self._hand_over, loop)
        self._todo.append(chore)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._todo = self._todo, []
        for f in self._running:
            error = f.exception() if f.done() and not f.cancelled() else None
            if error is not None:
                self._errors.append(error)
        self._running = [f for f in self._running if not f.done()]
        self._running.append(loop.run_in_executor(self.pool, _run_all, batch))

    async def drain(self) -> None:
        """Wait until every chore handed over so far is done (the first error is raised, and
        every batch's error is read, so none is reported again as never retrieved)."""
        while self._todo or any(not f.done() for f in self._running):
            if self._todo:
                await asyncio.sleep(0)  # let the pending hand-over run
                continue
            await asyncio.gather(*self._running, return_exceptions=True)
        errors = [*self._errors, *(f.exception() for f in self._running if not f.cancelled())]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first


def _run_all(batch: list[Callable[[], None]]) -> None:
    error: BaseException | None = None
    for chore in batch:
        try:
            chore()
        except Exception as exc:  # the others still run; the first error is reported
            error = error or exc
    if error is not None:
        raise error


def _place_all(pairs: list[tuple[Path, Path]]) -> None:
    for src, dst in pairs:
        try:
            try:
                place_out(src, dst)
            except FileNotFoundError:
                if not src.exists():
                    raise
                # its folder is made by another chore, which may not have run yet
                dst.parent.mkdir(parents=True, exist_ok=True)
                place_out(src, dst)
        except OSError as exc:
            raise out_dir_error(dst.parent, exc) from None


def place_out(src: Path, dst: Path) -> None:
    """Give the stored file ``src`` the out-dir name ``dst``: a hard link where the filesystem
    allows one, else a copy.

    A link costs no second copy of a large video and no new file. The stored file is made
    read-only first, so that editing the out-dir file in place (as a user, not root) cannot
    change what the store holds; the store also checks an artifact's hash before reusing it.
    A name already there (a resume writing into the same out dir) is replaced.
    """
    with contextlib.suppress(OSError):  # not ours to change: linked as it is
        mode = src.stat().st_mode
        if mode & _WRITABLE:
            src.chmod(mode & ~_WRITABLE)
    for _ in range(2):
        try:
            os.link(src, dst)
            return
        except FileExistsError:
            if os.path.samefile(src, dst):
                return
            dst.unlink()
        except OSError as exc:
            if exc.errno not in _NOT_LINKABLE:
                raise
            break
    dst.unlink(missing_ok=True)  # a copy never writes through an older link into the store
    shutil.copyfile(src, dst)


_WRITABLE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
# another filesystem, one without hard links, a file at its link limit, or one we may not link
_NOT_LINKABLE = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def make_out_dir(out: Path) -> None:
    """Make the out dir (and its parents).

    Raises:
        PodiumError: it cannot be made (naming it and why).
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise out_dir_error(out, exc) from None


def out_dir_error(out: Path, why: str | OSError) -> PodiumError:
    """One line for an out dir that cannot be made or written, before or during a run."""
    if isinstance(why, OSError):
        why = why.strerror or str(why)
    return PodiumError(
        f"cannot write the out dir {out}: {why}",
        where="--out",
        hint="choose another --out, or fix the folder's permissions",
    )


class GroupSettle:
    """Make fresh outputs durable in groups: one thread call settles everything pending.

    While one group's files are synced, the outputs of steps finishing meanwhile queue up and
    form the next group, so a wave of steps costs a few filesystem commits, not two per file.

    Args:
        artifacts: the store whose ``settle`` makes records put with ``later`` durable.
    """

    def __init__(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts
        self._queue: list[tuple[list[ArtifactRecord], asyncio.Future[None]]] = []
        self._busy = False
        self._task: asyncio.Task[None] | None = None  # referenced, so it is never collected

    async def __call__(self, records: list[ArtifactRecord]) -> None:
        """Return once ``records`` are durable and held (raises the settle's error)."""
        await self.begin(records)

    def begin(self, records: list[ArtifactRecord]) -> asyncio.Future[None]:
        """Start making ``records`` durable; the future is done once they are (and held)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        # an error is read by whoever awaits; one nobody awaits (a discarded result) is dropped
        waiter.add_done_callback(_seen)
        self._queue.append((records, waiter))
        if not self._busy:
            self._busy = True
            # the task's first step runs in the loop's next turn: what finishes in this one
            # joins the first group
            self._task = asyncio.ensure_future(self._drain())
        return waiter

    async def _drain(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                records = [r for rs, _ in group for r in rs]
                error: BaseException | None = None
                try:
                    await asyncio.to_thread(self.artifacts.settle, records)
                except Exception as exc:  # every waiter of the group learns it
                    error = exc
                _answer([waiter for _, waiter in group], error)
        finally:
            self._busy = False


def _answer(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Tell every waiter still waiting (not cancelled meanwhile) how its turn ended."""
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)


def _seen(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled():
        fut.exception()
