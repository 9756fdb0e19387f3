"""Scrubbing and the shared OpenAI error mapping, in process."""

from __future__ import annotations

import email.utils
import logging
import time

import httpx
import openai
import pytest

from fashionedit.services.common import InvalidInput, NotReady, Overloaded, Unavailable, UpstreamUnavailable, redact
from fashionedit.services.common.openai_errors import map_openai_error, retry_after_from

KEY = "sk-proj-AbCdEfGh1234567890ZyXw"


@pytest.fixture(autouse=True)
def registered():
    redact.register_secret(KEY)


@pytest.mark.parametrize(
    "text",
    [
        f"Incorrect API key provided: {KEY}.",
        "Incorrect API key provided: sk-proj-********************ZyXw.",
        f"upstream said Authorization: Bearer {KEY}",
        "proxy error: api_key=abcdef123456 rejected",
        "another sk-live-9f8e7d6c5b4a3210 shaped key",
    ],
)
def test_keys_and_key_shaped_values_are_scrubbed(text) -> None:
    cleaned = redact.scrub(text)
    assert "<redacted>" in cleaned
    assert KEY not in cleaned and "ZyXw" not in cleaned and "AbCdEf" not in cleaned
    assert "abcdef123456" not in cleaned and "9f8e7d6c5b4a3210" not in cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = "a red skirt with a pocket at [100, 200, 300, 400]; task-id 42"
    assert redact.scrub(text) == text


def test_short_placeholders_are_not_registered() -> None:
    redact.register_secret("EMPTY")
    assert redact.scrub("EMPTY response") == "EMPTY response"


def test_log_records_are_scrubbed_and_kept_on_one_line(caplog) -> None:
    redact.install_log_scrubbing()
    with caplog.at_level(logging.INFO, logger="fashionedit.test"):
        logging.getLogger("fashionedit.test").info("provider said %s\n2026-01-01 [ERROR] forged", KEY)
    (record,) = [r for r in caplog.records if r.name == "fashionedit.test"]
    assert KEY not in record.getMessage() and "\n" not in record.getMessage() and "\\n" in record.getMessage()


def _response(status: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://upstream/v1/x"))


def test_retry_after_reads_seconds_milliseconds_and_http_dates() -> None:
    assert retry_after_from(_response(429, {"retry-after": "7"})) == 7.0
    assert retry_after_from(_response(429, {"retry-after-ms": "250"})) == 0.25
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_from(_response(429, {"retry-after": when})) <= 31
    assert retry_after_from(_response(429, {"retry-after": "soon"})) is None


def test_an_echoed_key_in_a_provider_error_is_scrubbed_from_the_mapped_message() -> None:
    response = _response(500, {})
    exc = openai.InternalServerError(f"boom for key {KEY}", response=response, body=None)
    error = map_openai_error(exc, provider="the provider", timeout_s=5, max_retries=1)
    assert error.status == 502 and KEY not in error.message and "<redacted>" in error.message
    limited = map_openai_error(
        openai.RateLimitError("slow down", response=_response(429, {"retry-after": "3"}), body=None),
        provider="p",
        timeout_s=5,
        max_retries=1,
    )
    assert limited.status == 503 and limited.retry_after == 3.0


@pytest.mark.parametrize(
    "exc",
    [
        openai.RateLimitError("slow down", response=_response(429, {"retry-after-ms": "50"}), body=None),
        openai.InternalServerError("down", response=_response(503, {}), body=None),
        openai.InternalServerError("boom", response=_response(500, {}), body=None),
        openai.APITimeoutError(request=httpx.Request("POST", "http://upstream/v1/x")),
        openai.APIConnectionError(request=httpx.Request("POST", "http://upstream/v1/x")),
    ],
    ids=["429", "503", "500", "timeout", "connection"],
)
def test_upstream_errors_after_the_sdk_retries_tell_the_caller_not_to_retry(exc) -> None:
    error = map_openai_error(exc, provider="p", timeout_s=5, max_retries=2)
    assert error.status in (502, 503, 504) and error.retryable is False
    assert error.headers()["x-should-retry"] == "false"
    assert error.to_response().error.retryable is False


def test_what_a_service_answers_without_calling_its_provider_is_marked_retryable() -> None:
    for error in (Overloaded("busy", retry_after=1), NotReady("loading", retry_after=5)):
        assert error.retryable is True
        assert error.headers() == {"Retry-After": str(round(error.retry_after)), "x-should-retry": "true"}
    assert Unavailable("no CLIP weights").headers() == {"x-should-retry": "false"}
    assert InvalidInput("bad box").headers() == {} and InvalidInput("bad box").to_response().error.retryable is None
    slot_timeout = UpstreamUnavailable("all provider slots stayed busy", retry_after=1, retryable=True)
    assert slot_timeout.headers()["x-should-retry"] == "true" and UpstreamUnavailable("429").retryable is False
