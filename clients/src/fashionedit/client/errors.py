"""Exceptions the SDK raises. An HTTP error carries the service's parsed :class:`ErrorResponse`."""

from __future__ import annotations

import json
from datetime import UTC

import httpx
from pydantic import ValidationError

from fashionedit.contracts import ErrorResponse

_CODE_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "unauthorized",
    404: "not_found",
    413: "payload_too_large",
    422: "invalid_request",
    502: "upstream_error",
    503: "unavailable",
    504: "upstream_timeout",
}


class FashionEditError(Exception):
    """Base class of every error the client raises."""


class ServiceConnectionError(FashionEditError):
    """No replica of a service could be reached (after the configured retries)."""

    def __init__(self, message: str, *, service: str, urls: list[str], attempts: int) -> None:
        super().__init__(message)
        self.service, self.urls, self.attempts = service, urls, attempts


class ServiceTimeoutError(FashionEditError):
    """A replica accepted the call but did not answer within the operation's timeout."""

    def __init__(self, message: str, *, service: str, url: str, timeout_s: float) -> None:
        super().__init__(message)
        self.service, self.url, self.timeout_s = service, url, timeout_s


class APIError(FashionEditError):
    """A service answered with an error; ``response`` is its :class:`ErrorResponse`."""

    def __init__(self, response: ErrorResponse, *, service: str, url: str, attempts: int = 1) -> None:
        body = response.error
        rid = f" (request {body.request_id})" if body.request_id else ""
        super().__init__(f"{service} {body.status} {body.code}: {body.message}{rid}")
        self.response = response
        self.service = service
        self.url = url
        self.attempts = attempts

    @property
    def status(self) -> int:
        return self.response.error.status

    @property
    def code(self) -> str:
        return self.response.error.code

    @property
    def request_id(self) -> str | None:
        return self.response.error.request_id

    @property
    def retry_after(self) -> float | None:
        return self.response.error.retry_after

    @property
    def retryable(self) -> bool | None:
        """The service's own word (``x-should-retry`` / ``error.retryable``); None when it gave none."""
        return self.response.error.retryable


class InvalidRequestError(APIError):
    """4xx: the request can be fixed by the caller (the message says how)."""


class AuthenticationError(APIError):
    """401/403: set FASHIONEDIT_API_TOKEN to the services' token."""


class ServiceUnavailableError(APIError):
    """503: overloaded, still loading, a capability not configured, or the upstream provider down."""


class UpstreamError(APIError):
    """502/504: the service's model provider answered badly or too late."""


class InternalServerError(APIError):
    """500: a bug in the service; quote the request id when reporting it."""


def error_class(status: int) -> type[APIError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 503:
        return ServiceUnavailableError
    if status in (502, 504):
        return UpstreamError
    if 400 <= status < 500:
        return InvalidRequestError
    return InternalServerError


def parse_error_response(response: httpx.Response) -> ErrorResponse:
    """The service's ErrorResponse, or one synthesised from a body that is not one (e.g. a proxy's HTML)."""
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    should_retry = parse_should_retry(response.headers.get("x-should-retry"))
    try:
        parsed = ErrorResponse.model_validate(response.json())
        if parsed.error.retry_after is None and retry_after is not None:
            parsed.error.retry_after = retry_after
        if parsed.error.retryable is None and should_retry is not None:
            parsed.error.retryable = should_retry
        return parsed
    except (ValueError, ValidationError, json.JSONDecodeError):
        pass
    status = response.status_code if 400 <= response.status_code <= 599 else 500
    snippet = response.text[:300].strip().replace("\n", " ")
    return ErrorResponse.make(
        status,
        _CODE_BY_STATUS.get(status, "internal_error"),  # type: ignore[arg-type]
        f"HTTP {response.status_code} without an error body from the service" + (f": {snippet}" if snippet else ""),
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after,
        retryable=should_retry,
    )


def parse_should_retry(value: str | None) -> bool | None:
    """The ``x-should-retry`` header (as openai-python reads it): "true" / "false", anything else unknown."""
    value = (value or "").strip().lower()
    return True if value == "true" else False if value == "false" else None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
