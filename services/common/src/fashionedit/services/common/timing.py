"""Stage timings that end up in every response's ``timings``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from fashionedit.contracts import Timings


class Stopwatch:
    def __init__(self) -> None:
        self._start = time.perf_counter()
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + (time.perf_counter() - start) * 1000.0

    def timings(self) -> Timings:
        return Timings(
            total_ms=(time.perf_counter() - self._start) * 1000.0, stages={k: round(v, 3) for k, v in self.stages.items()}
        )
