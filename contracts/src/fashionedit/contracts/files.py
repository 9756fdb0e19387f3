"""Crash-safe file writes shared by the client, the services and the libraries.

``atomic_write_bytes`` writes to a temporary file in the target's folder, fsyncs it, renames it over the
target and then fsyncs the folder, so a reader (or a ``kill -9``, or a power cut) sees either the old
content or all of the new, never a part. Temporary files are named ``.<name>.<random>.tmp``;
``remove_stale_temporaries`` clears the ones an interrupted writer left behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and durably; creates the parent folder. Returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``directory`` survive a power cut (a no-op where folders cannot be synced)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(directory: str | os.PathLike[str], *, recursive: bool = True) -> list[Path]:
    """Delete the ``.<name>.*.tmp`` files an interrupted :func:`atomic_write_bytes` left; returns what it removed.

    Call it only where no other writer is active in ``directory`` (a run folder its owner has locked).
    """
    root = Path(directory)
    if not root.is_dir():
        return []
    pattern = f".*{TEMP_SUFFIX}"
    found = root.rglob(pattern) if recursive else root.glob(pattern)
    removed = []
    for tmp in found:
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
