"""The autoscalers' metric as the images run it: the analyzer with a read-only root filesystem and /tmp its only
writable path (BentoML keeps the workers' metric files under BENTOML_HOME there) exports
``fashionedit_requests_in_flight`` on /metrics, without the bearer token the API needs."""

from __future__ import annotations

import httpx
import pytest

from fashionedit.services.common import metrics
from tests.support.metrics import scrape, value

from .conftest import API_TOKEN

pytestmark = pytest.mark.integration


def test_the_analyzer_exports_the_metric_its_autoscaler_reads(analyzer_with_token) -> None:
    before = scrape(analyzer_with_token.url)  # no token: scrapers get in as probes do
    assert value(before, metrics.REQUESTS_IN_FLIGHT, service_name="analyzer") == 0
    assert value(before, metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="analyzer") == 8  # MAX_CONCURRENCY's default
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    assert httpx.post(analyzer_with_token.url + "/v1/info", json={}, headers=headers, timeout=30).status_code == 200
    after = scrape(analyzer_with_token.url)
    assert value(after, metrics.REQUESTS_IN_FLIGHT, service_name="analyzer") == 0  # back down once answered
    assert not [key for key in after if key[0] == metrics.OVERLOADED + "_total" and ("service_name", "analyzer") in key[1]]
