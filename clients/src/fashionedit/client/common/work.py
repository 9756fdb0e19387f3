"""Bounded asyncio work for the dataset builder and the benchmark runner.

* :class:`WorkPool`: ``concurrency`` workers pull steps from a priority queue; a step may enqueue its
  successor (round r+1 after round r), so the pool stays full without holding every item in memory.
* :func:`call_with_retries`: re-runs a step only after a local fault (file I/O, a local timeout). An error
  from a service call is final for the step: the service already retried its provider and the SDK's
  transport already retried the hop to the service, so re-running the step would multiply upstream calls
  (docs/SERVICE_CONVENTIONS.md, "Retries"). A failed step is recorded; a resumed run re-runs it.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..errors import FashionEditError

T = TypeVar("T")


def is_final(exc: BaseException) -> bool:
    """Errors this layer must not retry: every SDK error (its hop has an owner below) and every bug."""
    if isinstance(exc, FashionEditError):
        return True  # service answers, connection failures and timeouts: retried (or declared final) below
    return not isinstance(exc, (OSError, asyncio.TimeoutError))


class AttemptsExhausted(Exception):
    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


async def call_with_retries(func: Callable[[], Awaitable[T]], attempts: int, backoff_s: float = 1.0) -> tuple[T, int]:
    """``(result, attempts used)``; raises :class:`AttemptsExhausted` with the last error."""
    for attempt in range(1, attempts + 1):
        try:
            return await func(), attempt
        except Exception as exc:  # noqa: BLE001 - classified below, reported by the caller
            if attempt >= attempts or is_final(exc):
                raise AttemptsExhausted(exc, attempt) from exc
            delay = backoff_s * 2 ** (attempt - 1)
            await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))
    raise AssertionError("unreachable")


def describe_error(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


Step = Callable[["WorkPool"], Awaitable[None]]


class WorkPool:
    """Run steps with at most ``concurrency`` in flight, lowest priority key first (FIFO among equals)."""

    def __init__(self, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self._queue: asyncio.PriorityQueue[tuple[Any, int, Step]] = asyncio.PriorityQueue()
        self._counter = itertools.count()
        self._pending = 0
        self._idle = asyncio.Event()

    def submit(self, priority: Any, step: Step) -> None:
        self._pending += 1
        self._idle.clear()
        self._queue.put_nowait((priority, next(self._counter), step))

    async def _worker(self) -> None:
        while True:
            _, _, step = await self._queue.get()
            try:
                await step(self)
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()

    async def run(self) -> None:
        """Until every submitted step (and every step they submit) is done. A step that raises stops the run."""
        if self._pending == 0:
            return
        workers = [asyncio.create_task(self._worker()) for _ in range(self.concurrency)]
        idle = asyncio.create_task(self._idle.wait())
        try:
            done, _ = await asyncio.wait([idle, *workers], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not idle and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            for task in (idle, *workers):
                task.cancel()
            await asyncio.gather(idle, *workers, return_exceptions=True)
