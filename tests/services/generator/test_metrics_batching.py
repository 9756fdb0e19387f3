"""The generator's batcher exports its queue depth, its batch sizes and the images it refuses (in-process)."""

from __future__ import annotations

import threading
import uuid

import pytest
from PIL import Image

from fashionedit.services.common import metrics
from fashionedit.services.generator.backends.base import ImageJob, RenderSettings
from fashionedit.services.generator.batching import MicroBatcher, QueueFull
from tests.support.metrics import local

SETTINGS = RenderSettings(width=64, height=64, steps=1, guidance=1.0)


def jobs(prefix: str, count: int) -> list[ImageJob]:
    return [ImageJob(f"{prefix}{i}", "", i) for i in range(count)]


class GatedPipeline:
    """Renders blank images, but only once the gate opens: requests pile up in the queue meanwhile."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[int] = []

    def __call__(self, settings: RenderSettings, batch) -> list[Image.Image]:
        self.entered.set()
        self.gate.wait(10)
        self.calls.append(len(batch))
        return [Image.new("RGB", (settings.width, settings.height)) for _ in batch]


def test_queue_depth_batch_sizes_and_refusals_follow_the_queue() -> None:
    name = f"generator-test-{uuid.uuid4().hex[:8]}"  # its own series: other tests' batchers do not move it
    pipeline = GatedPipeline()
    batcher = MicroBatcher(pipeline, max_batch_images=4, max_queued_images=5, name=name)
    try:
        assert local(metrics.BATCH_QUEUE, service_name=name) == 0
        first = batcher.submit(SETTINGS, jobs("a", 1))
        assert pipeline.entered.wait(5)  # the worker holds it, blocked on the gate; the queue is empty again
        assert local(metrics.BATCH_QUEUE, service_name=name) == 0
        waiting = [batcher.submit(SETTINGS, jobs("b", 3)), batcher.submit(SETTINGS, jobs("c", 2))]
        assert local(metrics.BATCH_QUEUE, service_name=name) == 5 == batcher.queued_images()
        with pytest.raises(QueueFull):
            batcher.submit(SETTINGS, jobs("d", 2))
        with pytest.raises(QueueFull):
            batcher.submit(SETTINGS, jobs("e", 1))
        assert local(metrics.BATCH_REJECTED + "_total", service_name=name) == 3  # images, not requests
        assert local(metrics.BATCH_QUEUE, service_name=name) == 5  # refusals leave the queue as it was
        pipeline.gate.set()
        first.result(5)
        for future in waiting:
            future.result(5)
        # Calls of 1, then 4 (b0-b2 + c0), then 1 (c1): the histogram saw each call's size.
        assert pipeline.calls == [1, 4, 1]
        assert local(metrics.BATCH_SIZE + "_count", service_name=name) == 3
        assert local(metrics.BATCH_SIZE + "_sum", service_name=name) == 6
        assert local(metrics.BATCH_SIZE + "_bucket", service_name=name, le="1.0") == 2
        assert local(metrics.BATCH_SIZE + "_bucket", service_name=name, le="4.0") == 3
        assert local(metrics.BATCH_QUEUE, service_name=name) == 0
    finally:
        pipeline.gate.set()
        batcher.close()


def test_cancelled_work_leaves_the_queue_gauge() -> None:
    name = f"generator-test-{uuid.uuid4().hex[:8]}"
    pipeline = GatedPipeline()
    batcher = MicroBatcher(pipeline, max_batch_images=1, name=name)
    try:
        batcher.submit(SETTINGS, jobs("a", 1))
        assert pipeline.entered.wait(5)
        waiting = [batcher.submit(SETTINGS, jobs(f"q{i}", 2)) for i in range(3)]
        assert local(metrics.BATCH_QUEUE, service_name=name) == 6
        for future in waiting[:2]:
            assert future.cancel()  # their callers timed out
        assert batcher.queued_images() == 2
        assert local(metrics.BATCH_QUEUE, service_name=name) == 2
        pipeline.gate.set()
        waiting[2].result(5)
        assert local(metrics.BATCH_QUEUE, service_name=name) == 0
        assert local(metrics.BATCH_SIZE + "_sum", service_name=name) == 3  # the cancelled images never ran
    finally:
        pipeline.gate.set()
        batcher.close()
