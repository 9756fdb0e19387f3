"""The shared edge over a real ``bentoml serve``: secrets, body limits, JSON only, time budgets, log hygiene."""

from __future__ import annotations

import time

import httpx
import pytest

from fashionedit.contracts import ErrorResponse, GenerateResponse
from tests.support.servers import REPO_ROOT, BentoServer

pytestmark = pytest.mark.integration

TARGET = "tests.services.common.probe_service:Probe"
TOKEN = "sk-probe-Zq8v2LrT0k9XbW3mNc5e"
MASKED_TAIL = TOKEN[-4:]
BODY_LIMIT = 200_000


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hardened-probe")
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "FASHIONEDIT_API_TOKEN": TOKEN,
        "FASHIONEDIT_TIMEOUT_S": "1",
        "FASHIONEDIT_MAX_BODY_BYTES": str(BODY_LIMIT),
        "PROBE_WORK_FILE": str(folder / "work.txt"),
    }
    with BentoServer(TARGET, env=env, log_path=folder / "probe.log") as server:
        server.work_file = folder / "work.txt"
        yield server


@pytest.fixture
def client(probe):
    with httpx.Client(base_url=probe.url, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def error_of(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse.model_validate(response.json())


def log_text(probe) -> str:
    time.sleep(0.3)  # let the server flush
    return probe.log_path.read_text(errors="replace")


def test_a_key_in_a_response_field_is_scrubbed(client, probe) -> None:
    r = client.post("/v1/generate", json={"prompt": "leak", "width": 64, "height": 64})
    assert r.status_code == 200
    body = GenerateResponse.model_validate(r.json())
    assert TOKEN not in r.text and "<redacted>" in body.model.model_id and "<redacted>" in body.warnings[0]


def test_a_key_echoed_in_an_error_is_scrubbed_from_reply_and_log(client, probe) -> None:
    r = client.post("/v1/generate", json={"prompt": "leak-error", "width": 64, "height": 64})
    assert r.status_code == 502 and error_of(r).error.code == "upstream_error"
    assert TOKEN not in r.text and f"********{MASKED_TAIL}" not in r.text and "<redacted>" in r.text
    assert TOKEN not in log_text(probe)


def test_a_declared_oversize_body_is_413_before_it_is_read(client) -> None:
    r = client.post("/v1/generate", content=b"{" + b" " * (BODY_LIMIT + 10) + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    error = error_of(r).error
    assert error.code == "payload_too_large" and str(BODY_LIMIT) in error.message


def test_a_streamed_oversize_body_is_counted_and_413(client) -> None:
    def chunks():
        yield b'{"prompt": "'
        for _ in range(50):
            yield b"x" * 10_000
        yield b'"}'

    r = client.post("/v1/generate", content=chunks(), headers={"Content-Type": "application/json"})  # chunked: no Content-Length
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and error_of(r).error.code == "payload_too_large"


def test_a_streamed_body_under_the_limit_is_served(client) -> None:
    def chunks():
        yield b'{"prompt": "a coat",'
        yield b' "width": 64, "height": 64}'

    r = client.post("/v1/generate", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"files": {"prompt": ("p.txt", b"a coat", "text/plain")}},
        {"data": {"prompt": "a coat"}},
        {"content": b'{"prompt": "a coat"}', "headers": {"Content-Type": "text/plain"}},
        {"content": b'{"prompt": "a coat"}'},
    ],
    ids=["multipart", "form-urlencoded", "text-plain", "no-content-type"],
)
def test_only_json_bodies_are_accepted(client, kwargs) -> None:
    r = client.post("/v1/generate", **kwargs)
    assert r.status_code == 415, r.text
    error = error_of(r).error
    assert error.code == "unsupported_media_type" and "application/json" in error.message


def test_json_with_a_charset_is_json(client) -> None:
    r = client.post(
        "/v1/generate",
        content=b'{"prompt": "a coat", "width": 64, "height": 64}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text


def test_a_timed_out_request_gets_the_shared_shape_and_its_work_stops(client, probe) -> None:
    started = time.monotonic()
    r = client.post("/v1/generate", json={"prompt": "busy", "width": 64, "height": 64})
    elapsed = time.monotonic() - started
    assert r.status_code == 504, r.text
    error = error_of(r).error
    assert error.code == "timeout" and "1 s" in error.message and error.request_id
    assert elapsed < 5
    steps_at_reply = len(probe.work_file.read_text().split())
    time.sleep(1.0)
    steps_later = len(probe.work_file.read_text().split())
    assert steps_later <= steps_at_reply + 1 and steps_later < 20  # stopped at its next check, not after 100 steps
    assert client.get("/readyz").status_code == 200


def test_a_newline_in_a_json_key_cannot_forge_a_log_line(client, probe) -> None:
    forged = "FORGED-LINE ERROR admin logged in"
    r = client.post("/v1/generate", json={"prompt": "a coat", f"x\n{forged}": 1})
    assert r.status_code == 422
    r = client.post("/v1/generate", json={"prompt": f"a coat\n{forged}", "width": 64, "height": 64})
    assert r.status_code == 200
    lines = log_text(probe).splitlines()
    assert not any(line.startswith(forged) for line in lines)


def test_rejected_requests_log_no_error_traceback(client, probe) -> None:
    before = len(log_text(probe))
    for body in ({"prompt": "x", "width": 65}, {"prompt": 3}, {}):
        assert client.post("/v1/generate", json=body).status_code == 422
    assert client.post("/v1/generate", data={"prompt": "a"}).status_code == 415
    new = log_text(probe)[before:]
    assert "Traceback" not in new and " ERROR " not in new.replace("FORGED-LINE ERROR", ""), new[-3000:]


def test_a_client_that_disconnects_is_not_logged_as_a_server_error(probe) -> None:
    before = len(log_text(probe))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            probe.url + "/v1/generate",
            json={"prompt": "slow", "width": 64, "height": 64},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=0.3,
        )
    time.sleep(1.5)
    new = log_text(probe)[before:]
    assert " 500 " not in new and "unexpected error" not in new and "Traceback" not in new, new[-3000:]
