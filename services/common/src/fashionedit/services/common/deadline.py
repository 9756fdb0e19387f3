"""Each request's time budget, readable from any code that serves it (threads included).

The binding starts a :class:`Deadline` per request (``timeout_s``) and answers 504 ``timeout``
when it passes. Work that runs in a thread cannot be cancelled from outside, so long loops
(re-asks, decoding many images) call :func:`check_deadline` between steps and bound upstream
calls by :func:`remaining_s`: once the caller has its 504, nothing more is spent on it.
"""

from __future__ import annotations

import contextvars
import threading
import time

from .errors import RequestTimeout


class Deadline:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.expires_at = time.monotonic() + timeout_s
        self._cancelled = threading.Event()

    def remaining(self) -> float:
        return 0.0 if self._cancelled.is_set() else max(self.expires_at - time.monotonic(), 0.0)

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def cancel(self) -> None:
        """The caller is gone (timed out or disconnected): stop at the next check."""
        self._cancelled.set()

    def error(self) -> RequestTimeout:
        return RequestTimeout(
            f"the request took longer than this service's limit of {self.timeout_s:g} s and was stopped; "
            "retry with a smaller request, or later"
        )

    def check(self) -> None:
        if self.expired:
            raise self.error()


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("fashionedit_deadline", default=None)


def current_deadline() -> Deadline | None:
    return _current.get()


def set_deadline(deadline: Deadline | None) -> contextvars.Token:
    return _current.set(deadline)


def reset_deadline(token: contextvars.Token) -> None:
    _current.reset(token)


def check_deadline() -> None:
    """Raise 504 ``timeout`` when the current request's budget is spent (no-op outside a request)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()


def remaining_s(default: float) -> float:
    """Seconds left for the current request, at most ``default`` (``default`` outside a request)."""
    deadline = _current.get()
    if deadline is None:
        return default
    return min(default, deadline.remaining())
