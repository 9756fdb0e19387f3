"""One CLIP forward at a time, shared by concurrent requests.

A single thread owns the model. Each request submits its uint8 batch and waits
on a future; while a forward runs, later submissions queue up and the next
forward takes all of them at once (up to ``max_batch`` images). An idle model
starts at once, so batching adds no latency (``wait_ms`` can add a short
window for bursty small requests on a GPU).

The batcher exports its queue depth, the size of every forward and the images refused because the
queue was full (:mod:`fashionedit.services.common.metrics`, labelled with ``name``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future

import numpy as np

from fashionedit.services.common import metrics

from .backends.base import ImageEmbedder

log = logging.getLogger(__name__)

Result = tuple[np.ndarray, dict[str, float]]


class ForwardBatcher:
    def __init__(
        self, embedder: ImageEmbedder, *, max_batch: int, across_requests: bool = True, wait_ms: float = 0.0, name: str = "scorer"
    ) -> None:
        self.embedder = embedder
        self.name = name
        self.max_batch = max(1, max_batch)
        self.across_requests = across_requests
        self.wait_s = wait_ms / 1000.0
        self._lock = threading.Lock()
        self._depth_lock = threading.Lock()  # each change of the queue is followed by a publish made after it
        self._queue: queue.Queue[tuple[np.ndarray, Future[Result]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.forwards = 0  # number of model calls, for tests and logs
        metrics.set_queue_depth(name, 0)
        if across_requests:
            self._thread = threading.Thread(target=self._run, name="clip-forward", daemon=True)
            self._thread.start()

    def submit(self, batch: np.ndarray) -> Future[Result]:
        future: Future[Result] = Future()
        if not self.across_requests:
            with self._lock:  # one forward at a time: concurrent CPU forwards only fight over cores
                self._forward([(batch, future)])
            return future
        self._queue.put((batch, future))
        self._publish_depth()
        return future

    def has_room(self, images: int, limit: int) -> bool:
        """Whether ``images`` more inputs fit under ``limit`` waiting ones; a refusal counts them as rejected."""
        if self.queued_images() + images <= limit:
            return True
        metrics.count_rejected(self.name, images)
        return False

    def _publish_depth(self) -> None:
        with self._depth_lock:
            metrics.set_queue_depth(self.name, self.queued_images())

    def queued_images(self) -> int:
        """Images waiting for a forward (approximate: read without the queue's lock)."""
        return sum(len(item[0]) for item in list(self._queue.queue) if item is not None)

    def embed(self, batch: np.ndarray) -> Result:
        return self.submit(batch).result()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            items = [item]
            size = len(item[0])
            deadline = time.perf_counter() + self.wait_s
            while size < self.max_batch:
                try:
                    timeout = deadline - time.perf_counter()
                    nxt = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                items.append(nxt)
                size += len(nxt[0])
            self._publish_depth()
            self._forward(items)

    def _forward(self, items: list[tuple[np.ndarray, Future[Result]]]) -> None:
        live = [(batch, fut) for batch, fut in items if fut.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            stacked = live[0][0] if len(live) == 1 else np.concatenate([batch for batch, _ in live], axis=0)
            metrics.observe_batch(self.name, len(stacked))
            embeddings, timings = self.embedder.embed(stacked)
            self.forwards += 1
        except BaseException as exc:  # noqa: BLE001 - every waiting request learns about the failure
            log.exception("CLIP forward failed")
            for _, fut in live:
                fut.set_exception(exc)
            return
        timings = {**timings, "batch_images": float(len(stacked))}
        start = 0
        for batch, fut in live:
            fut.set_result((embeddings[start : start + len(batch)], timings))
            start += len(batch)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
