"""The step layer (dataset builder, benchmark runner) re-runs a step only after a local fault, never after a service error."""

from __future__ import annotations

import pytest

from fashionedit.client.common.work import AttemptsExhausted, call_with_retries, is_final
from fashionedit.client.errors import (
    InternalServerError,
    InvalidRequestError,
    ServiceConnectionError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    UpstreamError,
)
from fashionedit.contracts import ErrorResponse


def api_error(cls, status: int, code: str, retryable: bool | None = None):
    return cls(ErrorResponse.make(status, code, "x", retryable=retryable), service="editor", url="http://e.test", attempts=1)


SERVICE_ERRORS = [
    api_error(ServiceUnavailableError, 503, "upstream_unavailable", retryable=False),
    api_error(ServiceUnavailableError, 503, "overloaded", retryable=True),  # the transport spent its max_attempts on it
    api_error(UpstreamError, 502, "upstream_error", retryable=False),
    api_error(UpstreamError, 504, "upstream_timeout", retryable=False),
    api_error(InternalServerError, 500, "internal_error"),
    api_error(InvalidRequestError, 422, "invalid_request"),
    ServiceConnectionError("no replica", service="editor", urls=["http://e.test"], attempts=4),
    ServiceTimeoutError("too slow", service="editor", url="http://e.test", timeout_s=1.0),
]


@pytest.mark.parametrize("error", SERVICE_ERRORS, ids=lambda e: type(e).__name__ + ":" + str(getattr(e, "code", "")))
async def test_a_service_error_fails_the_step_at_its_first_try(error):
    calls = []

    async def step():
        calls.append(1)
        raise error

    assert is_final(error)
    with pytest.raises(AttemptsExhausted) as info:
        await call_with_retries(step, attempts=3, backoff_s=0.0)
    assert len(calls) == 1 and info.value.attempts == 1 and info.value.error is error


@pytest.mark.parametrize("error", [OSError("disk hiccup"), TimeoutError()])
async def test_a_local_fault_is_tried_again_a_bounded_number_of_times(error):
    calls = []

    async def step():
        calls.append(1)
        raise error

    assert not is_final(error)
    with pytest.raises(AttemptsExhausted) as info:
        await call_with_retries(step, attempts=3, backoff_s=0.0)
    assert len(calls) == 3 and info.value.attempts == 3


async def test_a_bug_is_final():
    async def step():
        raise KeyError("bug")

    with pytest.raises(AttemptsExhausted) as info:
        await call_with_retries(step, attempts=3, backoff_s=0.0)
    assert info.value.attempts == 1
