"""The shared plumbing over real HTTP: one error shape, 422s, admission control, readiness, request ids."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from fashionedit.contracts import ErrorResponse, GenerateResponse
from tests.support.servers import REPO_ROOT, BentoServer

pytestmark = pytest.mark.integration

TARGET = "tests.services.common.probe_service:Probe"


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    log = tmp_path_factory.mktemp("probe") / "probe.log"
    with BentoServer(TARGET, env={"FASHIONEDIT_MAX_CONCURRENCY": "2", "PYTHONPATH": str(REPO_ROOT)}, log_path=log) as server:
        yield server


@pytest.fixture
def client(probe):
    with httpx.Client(base_url=probe.url, timeout=30) as c:
        yield c


def error_of(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse.model_validate(response.json())


def test_success_is_the_contract(client) -> None:
    r = client.post("/v1/generate", json={"prompt": "a coat", "width": 64, "height": 64, "seed": 7})
    assert r.status_code == 200
    body = GenerateResponse.model_validate(r.json())
    assert body.images[0].seed == 7 and body.images[0].image.size == (64, 64)


@pytest.mark.parametrize(
    "body,loc,fragment",
    [
        ({"prompt": "   "}, ["prompt"], "must not be empty"),
        ({"prompt": "x", "width": 65}, ["width"], "not a multiple of 16"),
        ({"prompt": "x", "steps": 500}, ["steps"], "less than or equal to 150"),
        ({"prompt": "x", "colour": "red"}, ["colour"], "Extra inputs"),
        ({}, ["prompt"], "Field required"),
    ],
)
def test_validation_errors_are_422_with_field_details(client, body, loc, fragment) -> None:
    r = client.post("/v1/generate", json=body)
    assert r.status_code == 422
    err = error_of(r).error
    assert err.code == "invalid_request" and err.status == 422
    assert any(d.loc == loc and fragment in d.message for d in err.details), err
    assert fragment in err.message  # the summary names the field's problem too
    assert "Traceback" not in r.text


def test_malformed_json_is_422(client) -> None:
    r = client.post("/v1/generate", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and error_of(r).error.details[0].type == "json_invalid"


def test_upstream_errors_keep_their_status_and_message(client) -> None:
    r = client.post("/v1/generate", json={"prompt": "upstream"})
    assert r.status_code == 502
    assert error_of(r).error.code == "upstream_error" and "without an image" in error_of(r).error.message


def test_unexpected_errors_are_500_without_internals(client) -> None:
    r = client.post("/v1/generate", json={"prompt": "crash"}, headers={"X-Request-ID": "req-123"})
    assert r.status_code == 500
    err = error_of(r).error
    assert err.code == "internal_error" and "req-123" in err.message
    assert "secret-internal-detail" not in r.text


def test_request_id_is_echoed_or_made(client) -> None:
    assert (
        client.post("/v1/generate", json={"prompt": "a", "width": 64, "height": 64}, headers={"X-Request-ID": "abc"}).headers[
            "x-request-id"
        ]
        == "abc"
    )
    made = client.post("/v1/generate", json={"prompt": "a", "width": 64, "height": 64}).headers["x-request-id"]
    assert len(made) == 32


def test_unknown_route_is_404_in_the_shared_shape(client) -> None:
    r = client.post("/v1/nothing", json={})
    assert r.status_code == 404 and error_of(r).error.code == "not_found"


def test_saturation_gets_503_with_retry_after(probe) -> None:
    def call(_: int) -> httpx.Response:
        return httpx.post(probe.url + "/v1/generate", json={"prompt": "slow"}, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(call, range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2 and 503 in statuses, statuses
    rejected = next(r for r in responses if r.status_code == 503)
    err = error_of(rejected).error
    assert rejected.headers["retry-after"] == "1" and err.code == "overloaded" and err.retry_after == 1.0
    # The middleware's own 503 carries the retry signal every other retryable error does (errors.Overloaded).
    assert rejected.headers["x-should-retry"] == "true" and err.retryable is True
    assert rejected.headers["x-request-id"] and err.request_id == rejected.headers["x-request-id"]
    # health routes are never subject to admission control
    assert httpx.get(probe.url + "/livez").status_code == 200


def test_readiness_follows_the_background_load(tmp_path) -> None:
    env = {"PROBE_LOAD_S": "6", "PYTHONPATH": str(REPO_ROOT)}
    server = BentoServer(TARGET, env=env, log_path=tmp_path / "slow.log", health_path="/livez")
    with server:
        assert httpx.get(server.url + "/readyz").status_code == 503
        r = httpx.post(server.url + "/v1/generate", json={"prompt": "a"}, timeout=10)
        assert r.status_code == 503 and error_of(r).error.code == "not_ready" and "still loading" in error_of(r).error.message
        deadline = time.monotonic() + 30
        while httpx.get(server.url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline, "never became ready"
            time.sleep(0.2)
        assert (
            httpx.post(server.url + "/v1/generate", json={"prompt": "a", "width": 64, "height": 64}, timeout=10).status_code
            == 200
        )
