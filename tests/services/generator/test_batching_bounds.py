"""The generator's queue is bounded, and work whose caller stopped waiting is dropped."""

from __future__ import annotations

import threading

import pytest
from PIL import Image

from fashionedit.services.generator.backends.base import ImageJob, RenderSettings
from fashionedit.services.generator.batching import MicroBatcher, QueueFull

SETTINGS = RenderSettings(width=64, height=64, steps=1, guidance=1.0)


def test_a_full_queue_refuses_and_cancelled_work_is_never_run() -> None:
    gate = threading.Event()
    ran: list[str] = []

    def run(settings, jobs):
        gate.wait(5)
        ran.extend(job.prompt for job in jobs)
        return [Image.new("RGB", (64, 64)) for _ in jobs]

    batcher = MicroBatcher(run, max_batch_images=1, max_queued_images=3)
    try:
        first = batcher.submit(SETTINGS, [ImageJob("first", "", 1)])  # taken by the worker, blocked on the gate
        while batcher.queued_images():
            pass
        waiting = [batcher.submit(SETTINGS, [ImageJob(f"q{i}", "", i)]) for i in range(3)]
        with pytest.raises(QueueFull):
            batcher.submit(SETTINGS, [ImageJob("one too many", "", 9)])
        for future in waiting[:2]:
            assert future.cancel()  # the callers timed out
        assert batcher.queued_images() == 1
        gate.set()
        first.result(5)
        waiting[2].result(5)
        assert ran == ["first", "q2"]
    finally:
        gate.set()
        batcher.close()
