"""Exceptions that services raise; each maps to one :class:`ErrorResponse`.

Plain Python (no bentoml) so backends and serving logic can raise them and be
tested without a server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fashionedit.contracts import ErrorDetail, ErrorResponse
from fashionedit.contracts.common import ErrorCode

SHOULD_RETRY_HEADER = "x-should-retry"  # openai-python's name for the same signal


class ServiceError(Exception):
    status: int = 500
    code: ErrorCode = "internal_error"
    # Whether the caller may retry (the ``x-should-retry`` header and ``error.retryable``): False where this
    # service already retried its provider, so no caller multiplies those calls; None leaves it to status and code.
    retryable: bool | None = None

    def __init__(
        self,
        message: str,
        *,
        details: list[ErrorDetail] | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.retry_after = retry_after
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable

    def to_response(self, request_id: str | None = None) -> ErrorResponse:
        from .redact import scrub  # messages quote providers and inputs: never pass a secret on

        details = [d.model_copy(update={"message": scrub(d.message)}) for d in self.details]
        return ErrorResponse.make(
            self.status,
            self.code,
            scrub(self.message),
            details=details,
            request_id=request_id,
            retry_after=self.retry_after,
            retryable=self.retryable,
        )

    def headers(self) -> dict[str, str]:
        headers = {"Retry-After": str(max(1, round(self.retry_after)))} if self.retry_after is not None else {}
        if self.retryable is not None:
            headers[SHOULD_RETRY_HEADER] = "true" if self.retryable else "false"
        return headers


class InvalidInput(ServiceError):
    """The caller can fix the request (422)."""

    status, code = 422, "invalid_request"

    @classmethod
    def at(cls, loc: list[str | int], message: str) -> InvalidInput:
        return cls(message, details=[ErrorDetail(loc=loc, message=message)])


class NotReady(ServiceError):
    status, code, retryable = 503, "not_ready", True


class Unavailable(ServiceError):
    """A capability is not configured here (e.g. no CLIP weights), 503."""

    status, code, retryable = 503, "unavailable", False


class Overloaded(ServiceError):
    """More work than this worker takes now (503, retryable).

    Raised by serving code when a batcher's queue is full; the binding counts it in
    ``fashionedit_overloaded_total`` under ``reason`` (admission control answers its own 503s in ``asgi``).
    """

    status, code, retryable = 503, "overloaded", True
    reason = "queue_full"


class UpstreamError(ServiceError):
    """The provider answered, but not with something usable (502).

    The upstream errors are final for the caller: this service owns the retries against its provider
    (the SDK's ``max_retries`` with Retry-After), so a caller retrying them would multiply its calls.
    """

    status, code, retryable = 502, "upstream_error", False


class UpstreamUnavailable(ServiceError):
    """The provider is rate-limiting or down after our retries (503)."""

    status, code, retryable = 503, "upstream_unavailable", False


class UpstreamTimeout(ServiceError):
    status, code, retryable = 504, "upstream_timeout", False


class RequestTimeout(ServiceError):
    """The request used up the service's time budget (``timeout_s``); its work was stopped (504)."""

    status, code = 504, "timeout"


class PayloadTooLarge(ServiceError):
    """The body or the work it asks for is over this deployment's limit (413)."""

    status, code = 413, "payload_too_large"


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[ErrorDetail]:
    """Pydantic ``errors()`` to our details, dropping the echoed input (it may be megabytes of base64)."""
    details = []
    for err in errors:
        loc = [part for part in err.get("loc", ()) if part not in ("body",)]
        message = str(err.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        details.append(ErrorDetail(loc=loc, message=message, type=err.get("type")))
    return details


def summarize(details: list[ErrorDetail]) -> str:
    parts = [f"{'.'.join(str(p) for p in d.loc) or 'request'}: {d.message}" for d in details[:5]]
    more = f" (+{len(details) - 5} more)" if len(details) > 5 else ""
    return "; ".join(parts) + more
