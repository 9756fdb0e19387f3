"""One worker thread feeds the pipeline; concurrent compatible requests share a call.

Diffusers pipelines are not thread-safe (the scheduler keeps per-call state),
so every generation runs on one worker thread. That same thread is where
batching happens: when it picks up a request it also takes queued requests
with the same :class:`RenderSettings`, up to ``max_batch_images`` images, and
runs them as one pipeline call (optionally waiting ``wait_s`` for more to
arrive). A request larger than the limit is split into several calls. Requests
never wait behind a batch they could not join: the head of the queue always
goes next, so nothing starves.

The batcher exports its queue depth, the size of every pipeline call and the images it refuses
(:mod:`fashionedit.services.common.metrics`, labelled with ``name``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from PIL import Image

from fashionedit.services.common import metrics

from .backends.base import ImageJob, RenderSettings


class QueueFull(Exception):
    """More images are waiting than the queue holds; the caller should retry later."""

    def __init__(self, queued: int) -> None:
        super().__init__(f"{queued} images already queued")
        self.queued = queued


RunBatch = Callable[[RenderSettings, Sequence[ImageJob]], list[Image.Image]]


@dataclass
class BatchStats:
    """What one request's images went through: time queued, time in pipeline calls, how many images shared them."""

    queue_ms: float = 0.0
    generate_ms: float = 0.0
    calls: int = 0
    largest_batch: int = 0


@dataclass(eq=False)  # identity: the queue removes this exact request
class _Pending:
    settings: RenderSettings
    jobs: list[ImageJob]
    future: Future
    enqueued: float = field(default_factory=time.perf_counter)
    dispatched: int = 0  # jobs handed to the pipeline so far
    images: list[Image.Image | None] = field(default_factory=list)
    stats: BatchStats = field(default_factory=BatchStats)
    started: float | None = None

    def __post_init__(self) -> None:
        self.images = [None] * len(self.jobs)


class MicroBatcher:
    def __init__(
        self,
        run: RunBatch,
        *,
        max_batch_images: int = 1,
        wait_s: float = 0.0,
        name: str = "generator",
        max_queued_images: int | None = None,
    ) -> None:
        if max_batch_images < 1:
            raise ValueError("max_batch_images must be at least 1")
        self._run = run
        self.name = name
        self.max_batch_images = max_batch_images
        self.max_queued_images = max_queued_images
        self.wait_s = wait_s
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._closed = False
        metrics.set_queue_depth(name, 0)
        self._thread = threading.Thread(target=self._loop, name=f"{name}-batcher", daemon=True)
        self._thread.start()

    def submit(self, settings: RenderSettings, jobs: Sequence[ImageJob]) -> Future[tuple[list[Image.Image], BatchStats]]:
        future: Future = Future()
        if not jobs:
            future.set_result(([], BatchStats()))
            return future
        with self._cond:
            if self._closed:
                raise RuntimeError("the generator is shutting down")
            self._drop_cancelled()
            queued = sum(len(p.jobs) - p.dispatched for p in self._queue)
            if self.max_queued_images is not None and queued and queued + len(jobs) > self.max_queued_images:
                metrics.count_rejected(self.name, len(jobs))
                raise QueueFull(queued)
            self._queue.append(_Pending(settings, list(jobs), future))
            self._publish_depth()
            self._cond.notify_all()
        return future

    def _drop_cancelled(self) -> None:
        """Under the lock: forget requests whose caller stopped waiting (timed out or disconnected)."""
        cancelled = [p for p in self._queue if p.future.cancelled()]
        for pending in cancelled:
            self._queue.remove(pending)
        if cancelled:
            self._publish_depth()

    def _publish_depth(self) -> None:
        """Under the lock: the queue-depth gauge follows every change of the queue."""
        metrics.set_queue_depth(self.name, sum(len(p.jobs) - p.dispatched for p in self._queue))

    def queued_images(self) -> int:
        with self._cond:
            self._drop_cancelled()
            return sum(len(p.jobs) - p.dispatched for p in self._queue)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- worker -----------------------------------------------------------------------
    def _take_batch(self) -> list[tuple[_Pending, int, int]] | None:
        """Under the lock: choose the next call's (request, start, end) slices, or None on close."""
        self._drop_cancelled()
        while not self._queue and not self._closed:
            self._cond.wait()
            self._drop_cancelled()
        if not self._queue:
            return None
        head = self._queue[0]
        deadline = time.perf_counter() + self.wait_s
        while True:
            batch: list[tuple[_Pending, int, int]] = []
            room = self.max_batch_images
            for pending in self._queue:
                if room == 0:
                    break
                if pending.settings != head.settings:
                    continue
                count = min(room, len(pending.jobs) - pending.dispatched)
                batch.append((pending, pending.dispatched, pending.dispatched + count))
                room -= count
            remaining = deadline - time.perf_counter()
            self._drop_cancelled()
            if not self._queue:
                return []
            if head not in self._queue:
                head = self._queue[0]
                continue
            if room == 0 or remaining <= 0 or self._closed:
                break
            self._cond.wait(remaining)  # more compatible requests may arrive
        for pending, _, end in batch:
            pending.dispatched = end
            if pending.started is None:
                pending.started = time.perf_counter()
                pending.stats.queue_ms = (pending.started - pending.enqueued) * 1000.0
        for pending in {id(p): p for p, _, _ in batch}.values():
            if pending.dispatched == len(pending.jobs):
                self._queue.remove(pending)
        self._publish_depth()
        return batch

    def _loop(self) -> None:
        while True:
            with self._cond:
                batch = self._take_batch()
            if batch is None:
                return
            if not batch:
                continue
            settings = batch[0][0].settings
            jobs = [job for pending, start, end in batch for job in pending.jobs[start:end]]
            metrics.observe_batch(self.name, len(jobs))
            start_time = time.perf_counter()
            try:
                images = self._run(settings, jobs)
                if len(images) != len(jobs):
                    raise RuntimeError(f"backend returned {len(images)} images for {len(jobs)} prompts")
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting request
                self._fail(batch, exc)
                continue
            elapsed_ms = (time.perf_counter() - start_time) * 1000.0
            offset = 0
            for pending, start, end in batch:
                pending.images[start:end] = images[offset : offset + end - start]
                offset += end - start
                pending.stats.generate_ms += elapsed_ms
                pending.stats.calls += 1
                pending.stats.largest_batch = max(pending.stats.largest_batch, len(jobs))
                if end == len(pending.jobs) and not pending.future.done():
                    pending.future.set_result((list(pending.images), pending.stats))

    def _fail(self, batch: list[tuple[_Pending, int, int]], exc: BaseException) -> None:
        with self._cond:
            for pending, _, _ in batch:
                if pending in self._queue:
                    self._queue.remove(pending)  # its later slices would fail the same way
            self._publish_depth()
        for pending, _, _ in batch:
            if not pending.future.done():
                pending.future.set_exception(exc)
