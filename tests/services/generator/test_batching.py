"""The worker that runs the pipeline: merging, splitting, ordering and failures (no model needed)."""

from __future__ import annotations

import threading
import time

import pytest
from PIL import Image

from fashionedit.services.generator.backends.base import ImageJob, RenderSettings
from fashionedit.services.generator.batching import MicroBatcher

SMALL = RenderSettings(64, 64, 2, 7.0)
LARGE = RenderSettings(128, 64, 2, 7.0)


class RecordingRun:
    """Stands in for a backend: records each call's jobs; an image's colour encodes its seed."""

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.calls: list[tuple[RenderSettings, list[int]]] = []
        self.hold = hold
        self.started = threading.Event()

    def __call__(self, settings: RenderSettings, jobs):
        self.started.set()
        if self.hold is not None:
            assert self.hold.wait(10)
        self.calls.append((settings, [job.seed for job in jobs]))
        return [Image.new("RGB", (settings.width, settings.height), (job.seed % 256, 0, 0)) for job in jobs]


def jobs(*seeds: int) -> list[ImageJob]:
    return [ImageJob("a coat", "", seed) for seed in seeds]


def seeds_of(images) -> list[int]:
    return [image.getpixel((0, 0))[0] for image in images]


def test_one_request_at_a_time_without_batching() -> None:
    run = RecordingRun()
    batcher = MicroBatcher(run, max_batch_images=1)
    images, stats = batcher.submit(SMALL, jobs(1, 2, 3)).result(5)
    assert seeds_of(images) == [1, 2, 3]
    assert [call[1] for call in run.calls] == [[1], [2], [3]]  # split to the limit, in order
    assert stats.calls == 3 and stats.largest_batch == 1


def test_queued_compatible_requests_share_a_call_and_get_their_own_images() -> None:
    hold = threading.Event()
    run = RecordingRun(hold)
    batcher = MicroBatcher(run, max_batch_images=4)
    first = batcher.submit(SMALL, jobs(1))
    assert run.started.wait(5)  # the worker is busy with the first request
    second = batcher.submit(SMALL, jobs(2, 3))
    other_size = batcher.submit(LARGE, jobs(9))
    third = batcher.submit(SMALL, jobs(4, 5))
    hold.set()
    assert seeds_of(first.result(5)[0]) == [1]
    assert seeds_of(second.result(5)[0]) == [2, 3]
    assert seeds_of(third.result(5)[0]) == [4, 5]
    assert seeds_of(other_size.result(5)[0]) == [9]
    # second and the first slice of third share one call (4 images); LARGE waits its turn, then third's rest.
    assert run.calls == [(SMALL, [1]), (SMALL, [2, 3, 4, 5]), (LARGE, [9])]
    assert second.result()[1].largest_batch == 4


def test_head_of_queue_goes_first_so_nothing_starves() -> None:
    hold = threading.Event()
    run = RecordingRun(hold)
    batcher = MicroBatcher(run, max_batch_images=8)
    batcher.submit(SMALL, jobs(1))
    assert run.started.wait(5)
    large = batcher.submit(LARGE, jobs(7))
    smalls = [batcher.submit(SMALL, jobs(10 + i)) for i in range(3)]
    hold.set()
    for future in [large, *smalls]:
        future.result(5)
    assert run.calls[1] == (LARGE, [7])  # queued before the smalls, so it runs before them
    assert run.calls[2] == (SMALL, [10, 11, 12])


def test_wait_window_collects_requests_that_arrive_shortly_after() -> None:
    run = RecordingRun()
    batcher = MicroBatcher(run, max_batch_images=3, wait_s=0.5)
    futures = [batcher.submit(SMALL, jobs(i)) for i in range(3)]
    for future in futures:
        future.result(5)
    assert run.calls == [(SMALL, [0, 1, 2])]


def test_a_failed_call_fails_every_request_in_it_and_the_worker_carries_on() -> None:
    calls = []

    def flaky(settings, batch_jobs):
        calls.append(len(batch_jobs))
        if len(calls) == 1:
            raise RuntimeError("device lost")
        return [Image.new("RGB", (8, 8)) for _ in batch_jobs]

    batcher = MicroBatcher(flaky, max_batch_images=1)
    failed = batcher.submit(SMALL, jobs(1, 2))
    with pytest.raises(RuntimeError, match="device lost"):
        failed.result(5)
    images, _ = batcher.submit(SMALL, jobs(3)).result(5)
    assert len(images) == 1
    assert calls == [1, 1]  # the failed request's second slice was dropped, not run


def test_a_backend_returning_too_few_images_is_an_error() -> None:
    batcher = MicroBatcher(lambda settings, batch_jobs: [], max_batch_images=2)
    with pytest.raises(RuntimeError, match="0 images for 2"):
        batcher.submit(SMALL, jobs(1, 2)).result(5)


def test_queue_time_is_measured() -> None:
    hold = threading.Event()
    run = RecordingRun(hold)
    batcher = MicroBatcher(run, max_batch_images=1)
    batcher.submit(SMALL, jobs(1))
    assert run.started.wait(5)
    waiting = batcher.submit(SMALL, jobs(2))
    time.sleep(0.2)
    hold.set()
    assert waiting.result(5)[1].queue_ms >= 150
