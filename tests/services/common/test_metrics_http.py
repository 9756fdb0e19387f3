"""Admission control's metrics on BentoML's ``/metrics``, over a real ``bentoml serve`` driven past its limit."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fashionedit.services.common import metrics
from tests.support.metrics import scrape, value
from tests.support.servers import REPO_ROOT, BentoServer

pytestmark = pytest.mark.integration

TARGET = "tests.services.common.probe_service:Probe"
LIMIT = 2
TOKEN = "metrics-test-token-31c9"


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    env = {"FASHIONEDIT_MAX_CONCURRENCY": str(LIMIT), "FASHIONEDIT_API_TOKEN": TOKEN, "PYTHONPATH": str(REPO_ROOT)}
    with BentoServer(TARGET, env=env, log_path=tmp_path_factory.mktemp("probe") / "probe.log") as server:
        yield server


def admission_503s(samples) -> float:
    return value(samples, metrics.OVERLOADED + "_total", service_name="probe", reason=metrics.ADMISSION) or 0.0


def test_in_flight_and_overloaded_follow_admission_control(probe) -> None:
    before = scrape(probe.url)  # /metrics needs no token, as the health routes
    assert value(before, metrics.REQUESTS_IN_FLIGHT, service_name="probe") == 0
    assert value(before, metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="probe") == LIMIT
    slow = {"prompt": "slow", "width": 64, "height": 64}  # the probe takes 1.5 s over it
    barrier = threading.Barrier(7)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def call(_: int) -> int:
        barrier.wait()
        return httpx.post(probe.url + "/v1/generate", json=slow, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = pool.map(call, range(6))
        barrier.wait()
        time.sleep(0.75)  # the admitted two are in their 1.5 s, the other four already refused
        during = scrape(probe.url)
        statuses = list(statuses)
    assert sorted(statuses) == [200] * LIMIT + [503] * (6 - LIMIT), statuses
    assert value(during, metrics.REQUESTS_IN_FLIGHT, service_name="probe") == LIMIT
    after = scrape(probe.url)
    assert admission_503s(after) - admission_503s(before) == 6 - LIMIT
    assert value(after, metrics.REQUESTS_IN_FLIGHT, service_name="probe") == 0
    # A refused token is no overload, and neither are scrapes or health checks.
    assert httpx.post(probe.url + "/v1/generate", json=slow, timeout=10).status_code == 401
    assert httpx.get(probe.url + "/readyz", timeout=10).status_code == 200
    assert admission_503s(scrape(probe.url)) == admission_503s(after)


def test_only_low_cardinality_labels_and_bentomls_own_metrics_stay(probe) -> None:
    for i in range(3):
        headers = {"Authorization": f"Bearer {TOKEN}", "X-Request-ID": f"req-{i}"}
        response = httpx.post(probe.url + "/v1/generate", json={"prompt": "a coat", "width": 64, "height": 64}, headers=headers)
        assert response.status_code == 200, response.text
    samples = scrape(probe.url)
    ours = {(name, labels) for name, labels in samples if name.startswith("fashionedit_")}
    allowed = {"service_name", "reason", "le"}
    assert ours and all({key for key, _ in labels} <= allowed for _, labels in ours), ours
    assert not any("req-" in v for _, labels in ours for _, v in labels)
    # The same endpoint still serves BentoML's own request metrics.
    assert any(name == "bentoml_service_request_total" for name, _ in samples)
