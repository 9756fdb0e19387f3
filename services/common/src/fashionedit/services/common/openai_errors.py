"""What the ``openai`` SDK raises, after its own retries, as our 422/502/503/504 errors.

Used by the editor's and the analyzer's OpenAI-protocol backends, so a provider fault reads the
same whichever service met it. The SDK's retries are the only ones against the provider: every
upstream error is final for the caller (``x-should-retry: false``, see :mod:`.errors`). Every
provider text is scrubbed (:mod:`.redact`): providers and proxies may echo the key they were sent.
``openai`` is imported lazily: services without an OpenAI backend never need it.
"""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any

from .errors import InvalidInput, ServiceError, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from .redact import scrub

log = logging.getLogger("fashionedit.upstream")

DEFAULT_RETRY_AFTER_S = 1.0
MAX_PROVIDER_TEXT = 300

# What reading an answer of the wrong shape raises (the SDK builds models without validating them).
UNREADABLE_ANSWER_ERRORS: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def retry_after_from(response: object) -> float | None:
    """Seconds from a provider response's ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return max(float(headers["retry-after-ms"]) / 1000.0, 0.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def provider_text(text: Any) -> str:
    """A provider's message, scrubbed and shortened, fit to quote to the caller."""
    return scrub(str(text or "")).strip()[:MAX_PROVIDER_TEXT]


def map_openai_error(
    exc: BaseException,
    *,
    provider: str,
    timeout_s: float,
    max_retries: int,
    key_hint: str = "the configured API key",
    bad_request_is_callers: bool = True,
) -> ServiceError:
    """One ``openai`` exception as the error the caller gets; the provider's own words are scrubbed."""
    import openai

    after = f"after {max_retries} retries" if max_retries else "no retries configured"
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeout(f"{provider} did not answer within {timeout_s:g} s ({after})")
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamUnavailable(
            f"could not connect to {provider} ({after}); check its base URL and that it is up", retry_after=DEFAULT_RETRY_AFTER_S
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return UpstreamError(f"{provider} answered something that is not a valid response ({exc.status_code}); retry later")
    if isinstance(exc, openai.RateLimitError):
        retry_after = retry_after_from(exc.response)
        return UpstreamUnavailable(
            f"{provider} is rate-limiting requests (429, {after}): {provider_text(exc.message)}",
            retry_after=retry_after if retry_after is not None else DEFAULT_RETRY_AFTER_S,
        )
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return UpstreamError(f"{provider} refused the service's API key ({exc.status_code}); check {key_hint}")
    if isinstance(exc, openai.BadRequestError) and bad_request_is_callers:
        # Invalid sizes, moderation blocks, images the provider cannot use: the caller can change these.
        return InvalidInput(f"{provider} refused the request (400): {provider_text(exc.message)}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"{provider} answered {status} ({after}): {provider_text(exc.message)}"
        if status == 503:
            retry_after = retry_after_from(exc.response)
            return UpstreamUnavailable(message, retry_after=retry_after if retry_after is not None else DEFAULT_RETRY_AFTER_S)
        if status == 504:
            return UpstreamTimeout(message)
        return UpstreamError(message)
    return UpstreamError(f"{provider} failed ({type(exc).__name__}); retry later")


def unreadable_answer(exc: BaseException, *, provider: str, what: str = "answer") -> UpstreamError:
    """A 200 whose body could not be read (not JSON, an HTML page, JSON of another shape): 502."""
    log.warning("unreadable %s from %s: %s", what, provider, type(exc).__name__)
    return UpstreamError(f"{provider} sent an {what} that could not be read ({type(exc).__name__}); retry later")
