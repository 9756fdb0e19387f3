"""A second process holding a folder's writer lock, as a session step, build or run in progress would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = """
import sys
from fashionedit.client.common.folder_lock import hold_folder
with hold_folder(sys.argv[1], "a writer in another process"):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def folder_held_by_another_process(folder: str | Path) -> Iterator[subprocess.Popen]:
    """Yields the holder (its ``pid`` is what a refused writer names) once it holds ``folder/.lock``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.communicate("\n", timeout=30)
