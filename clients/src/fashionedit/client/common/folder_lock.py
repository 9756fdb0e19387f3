"""One writer per folder: a session, a dataset build or a benchmark run is changed by one process at a time.

The lock is ``flock`` on a file in the folder, so the kernel releases it when its holder dies (a ``kill -9``
leaves nothing to clean up); the file holds the holder's pid for the message the next comer reads. A thread
may re-enter a lock it holds; another thread of the same process is refused like another process (``flock``
alone cannot tell two threads of one process apart).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fashionedit.contracts.files import remove_stale_temporaries

LOCK_FILE = ".lock"


class FolderLocked(RuntimeError):
    """Another process (or thread) is writing this folder now."""


# Locks this process holds, by lock file: (re-entrant guard, [depth, descriptor]).
_HELD: dict[Path, tuple[threading.RLock, list[int]]] = {}
_HELD_GUARD = threading.Lock()


@contextmanager
def hold_folder(folder: str | os.PathLike[str], what: str, *, error: type[FolderLocked] = FolderLocked) -> Iterator[None]:
    """Hold ``<folder>/.lock`` while the block runs; raise ``error`` at once, naming the holder, when it is taken.

    ``what`` names the folder for the message ("session 20261203-…", "benchmark run out/").
    """
    path = (Path(folder) / LOCK_FILE).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _HELD_GUARD:
        guard, depth_fd = _HELD.setdefault(path, (threading.RLock(), [0, -1]))
    if not guard.acquire(blocking=False):
        raise error(f"{what} is being changed by another thread of this process; try again when it is done")
    try:
        if depth_fd[0] == 0:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise error(
                    f"{what} is being changed by another fashionedit process (pid {holder}); wait for it to finish, or stop it, "
                    "then try again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            depth_fd[1] = fd
        depth_fd[0] += 1
        try:
            yield
        finally:
            depth_fd[0] -= 1
            if depth_fd[0] == 0:
                fd, depth_fd[1] = depth_fd[1], -1
                os.ftruncate(fd, 0)
                os.close(fd)  # closing the descriptor releases the flock
    finally:
        guard.release()


@contextmanager
def claim_output_folder(folder: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Hold ``folder`` as its one writer (:func:`hold_folder`), first sweeping the temporaries a killed writer left
    (half-written files: never read, never kept). For the dataset builder and the benchmark runner."""
    with hold_folder(folder, what):
        remove_stale_temporaries(folder)
        yield
