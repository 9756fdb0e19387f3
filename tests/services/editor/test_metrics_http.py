"""The editor's autoscaling signal over real ``bentoml serve``: requests waiting on a slow provider count as in flight
(while the editor's CPU idles), and the requests past its limit as 503 ``overloaded`` (reason ``admission``)."""

from __future__ import annotations

import base64
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from fashionedit.services.common import metrics
from tests.support.metrics import scrape, value
from tests.support.servers import BentoServer

pytestmark = pytest.mark.integration

LIMIT = 2
CALLS = 5


@pytest.fixture(scope="module")
def editor(openai_server, tmp_path_factory):
    env = {
        "FASHIONEDIT_EDITOR_BACKEND": "openai-images",
        "FASHIONEDIT_EDITOR_OPENAI_API_KEY": openai_server.api_key,
        "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": openai_server.base_url,
        "FASHIONEDIT_EDITOR_OPENAI_MAX_RETRIES": "0",
        "FASHIONEDIT_EDITOR_MAX_CONCURRENCY": str(LIMIT),
    }
    log_path = tmp_path_factory.mktemp("editor") / "log"
    with BentoServer("fashionedit.services.editor.service:Editor", env=env, log_path=log_path) as server:
        yield server


def png_b64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (128, 128), (30, 60, 160)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_requests_waiting_on_the_provider_are_in_flight_and_the_rest_overloaded(editor, openai_fake) -> None:
    def admission(samples) -> float:
        return value(samples, metrics.OVERLOADED + "_total", service_name="editor", reason=metrics.ADMISSION) or 0.0

    before = scrape(editor.url)
    assert value(before, metrics.REQUESTS_IN_FLIGHT, service_name="editor") == 0
    assert value(before, metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="editor") == LIMIT
    openai_fake.configure(latency_s=2.0)  # the provider takes its time; the editor only waits
    body = {"image": png_b64(), "instruction": "add a breast pocket"}
    barrier = threading.Barrier(CALLS + 1)

    def call(_: int) -> int:
        barrier.wait()
        return httpx.post(editor.url + "/v1/edit", json=body, timeout=60).status_code

    try:
        with ThreadPoolExecutor(CALLS) as pool:
            statuses = pool.map(call, range(CALLS))
            barrier.wait()
            time.sleep(1.0)
            during = scrape(editor.url)
            statuses = list(statuses)
    finally:
        openai_fake.configure(latency_s=0.0)
    assert sorted(statuses) == [200] * LIMIT + [503] * (CALLS - LIMIT), statuses
    assert value(during, metrics.REQUESTS_IN_FLIGHT, service_name="editor") == LIMIT
    after = scrape(editor.url)
    assert admission(after) - admission(before) == CALLS - LIMIT
    assert value(after, metrics.REQUESTS_IN_FLIGHT, service_name="editor") == 0
    assert len(openai_fake.requests("images")) == LIMIT  # the refused never reached the provider
