"""`fashionedit up` on one host: a service started after another must not wipe the first one's /metrics
(`bentoml serve` empties its BentoML home's Prometheus folder as it starts), so each gets its own home."""

from __future__ import annotations

import pytest

from fashionedit.client.local import LocalServices
from fashionedit.services.common import metrics
from tests.support.metrics import scrape, value
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def test_each_service_keeps_its_metrics_when_another_starts_beside_it(tmp_path) -> None:
    run_dir = tmp_path / "run"
    first = LocalServices(run_dir, services=["analyzer"], ports={"analyzer": free_port()}, offline=True, startup_timeout_s=180)
    second = LocalServices(run_dir, services=["generator"], ports={"generator": free_port()}, offline=True, startup_timeout_s=180)
    assert first.environment("analyzer")["BENTOML_HOME"] != second.environment("generator")["BENTOML_HOME"]
    first.start()
    try:
        analyzer = first.urls()["analyzer"]
        assert value(scrape(analyzer), metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="analyzer") == 8
        second.start()  # the second `bentoml serve` empties its own Prometheus folder, not the analyzer's
        try:
            assert value(scrape(analyzer), metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="analyzer") == 8
            generator = second.urls()["generator"]
            assert value(scrape(generator), metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="generator") == 8
        finally:
            second.stop()
    finally:
        first.stop()
