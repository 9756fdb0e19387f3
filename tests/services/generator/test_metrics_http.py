"""The generator's batcher metrics on ``/metrics``, over a real ``bentoml serve`` whose queue is driven past its limit."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from fashionedit.services.common import metrics
from tests.support.metrics import Samples, scrape, value
from tests.support.servers import BentoServer

pytestmark = pytest.mark.integration

TARGET = "fashionedit.services.generator.service:Generator"
BATCH, QUEUE = 2, 6
HEAVY = {"prompt": "a red wool coat with two pockets", "width": 2048, "height": 2048, "num_images": 8}
LIGHT = {"prompt": "a navy blazer", "width": 256, "height": 256, "num_images": 3}


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    env = {"FASHIONEDIT_GENERATOR_MAX_BATCH_IMAGES": str(BATCH), "FASHIONEDIT_GENERATOR_MAX_QUEUED_IMAGES": str(QUEUE)}
    with BentoServer(TARGET, env=env, log_path=tmp_path_factory.mktemp("generator") / "log", startup_timeout=180) as server:
        yield server


def read(samples: Samples, name: str, **labels: str) -> float:
    return value(samples, name, service_name="generator", **labels) or 0.0


def test_queue_depth_batch_sizes_and_queue_full_refusals(generator) -> None:
    before = scrape(generator.url)
    assert value(before, metrics.BATCH_QUEUE, service_name="generator") == 0  # exported before any work
    served: list[dict] = []
    refused: list[dict] = []
    depths: list[float] = []
    for _ in range(3):  # the queue drains in well under a second on a fast machine: retry until a request met it full
        heavy: dict[str, httpx.Response] = {}

        def send_heavy(heavy: dict[str, httpx.Response] = heavy) -> None:
            heavy["r"] = httpx.post(generator.url + "/v1/generate", json=HEAVY, timeout=120)

        worker = threading.Thread(target=send_heavy)
        worker.start()
        deadline = time.monotonic() + 30
        while worker.is_alive() and time.monotonic() < deadline:
            depth = read(scrape(generator.url), metrics.BATCH_QUEUE)
            if depth > 0:  # 8 images queued, the pipeline takes them 2 by 2
                depths.append(depth)
                response = httpx.post(generator.url + "/v1/generate", json=LIGHT, timeout=120)
                assert response.status_code in (200, 503), response.text
                if response.status_code == 503:
                    assert response.json()["error"]["code"] == "overloaded"
                    refused.append(LIGHT)
                else:
                    served.append(LIGHT)
                break
            time.sleep(0.01)
        worker.join(120)
        assert heavy["r"].status_code == 200, heavy["r"].text
        served.append(HEAVY)
        if refused:
            break
    assert refused, f"no request met the queue full (depths seen: {depths})"
    after = scrape(generator.url)
    assert all(0 < d <= HEAVY["num_images"] for d in depths), depths
    assert read(after, metrics.BATCH_QUEUE) == 0
    # 503s: one per refused request (reason queue_full), and their images in the batcher's rejected count.
    queue_full = metrics.OVERLOADED + "_total"
    full = metrics.QUEUE_FULL
    assert read(after, queue_full, reason=full) - read(before, queue_full, reason=full) == len(refused)
    rejected = metrics.BATCH_REJECTED + "_total"
    assert read(after, rejected) - read(before, rejected) == sum(r["num_images"] for r in refused)
    assert read(after, queue_full, reason=metrics.ADMISSION) == read(before, queue_full, reason=metrics.ADMISSION)
    # Every image served went through one pipeline call of at most BATCH images.
    images = sum(r["num_images"] for r in served)
    calls = read(after, metrics.BATCH_SIZE + "_count") - read(before, metrics.BATCH_SIZE + "_count")
    assert read(after, metrics.BATCH_SIZE + "_sum") - read(before, metrics.BATCH_SIZE + "_sum") == images
    assert images / BATCH <= calls <= images
    bucket = metrics.BATCH_SIZE + "_bucket"
    assert read(after, bucket, le=f"{float(BATCH)}") - read(before, bucket, le=f"{float(BATCH)}") == calls
