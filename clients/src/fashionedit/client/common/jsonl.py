"""An append-only JSONL log with fsync: the record of finished results.

A result counts as finished once its line is in the log; its image files are
written (atomically, :mod:`fashionedit.contracts.files`) before the line, so a ``kill -9`` at any point leaves either
a finished result with all its files or no result at all.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fashionedit.contracts.files import fsync_dir

M = TypeVar("M", bound=BaseModel)


class JsonlLog:
    """An append-only JSONL file: one ``fsync``-ed line per finished result.

    Reading tolerates a torn last line (a kill during the write): it is ignored
    and cut off before the next append, so the file stays valid JSONL.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _repair(self) -> None:
        """Drop a torn (unterminated) last line left by an interrupted append (checks one byte)."""
        if not self.path.exists():
            return
        with open(self.path, "r+b") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) == b"\n":
                return
            handle.seek(0)
            data = handle.read()
            handle.truncate(data.rfind(b"\n") + 1)
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, record: BaseModel | dict[str, Any]) -> None:
        line = record.model_dump_json(exclude_none=True) if isinstance(record, BaseModel) else json.dumps(record, sort_keys=True)
        with self._lock:
            self._repair()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            with open(self.path, "ab") as handle:
                handle.write(line.encode("utf-8") + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            if created:
                fsync_dir(self.path.parent)  # the new file's name must survive a power cut too

    def raw(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # torn last line: not a finished result
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue

    def read(self, model: type[M]) -> Iterator[M]:
        for item in self.raw():
            try:
                yield model.model_validate(item)
            except ValidationError:
                continue
