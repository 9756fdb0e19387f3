"""One ASGI middleware that gives every service the same edge behaviour.

* **Request ids**: ``X-Request-ID`` is taken from the caller (or made) and
  echoed, and exposed through :func:`current_request_id` so backends can
  forward it upstream.
* **Authentication** (optional): a bearer token on every route but health,
  metrics and docs.
* **Admission control**: at most ``max_concurrency`` API requests in flight per
  worker; the next gets 503 ``overloaded`` with ``Retry-After`` instead of
  queueing without bound.
* **Bodies**: API routes take JSON only (anything else: 415) of at most
  ``max_body_bytes`` (413, from ``Content-Length`` when sent, else by counting the
  streamed bytes, before the application sees any of it).
* **One error shape**: BentoML's own error bodies (validation 400s, 500s) are
  rewritten into :class:`ErrorResponse`; pydantic validation failures become
  422 with per-field details.

BentoML adds user middlewares *inside* its own traffic middlewares, so this is
also why admission control lives here: BentoML's ``max_concurrency`` answers
429 in its own shape, before we could rewrite it.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fashionedit.contracts import ErrorDetail, ErrorResponse
from fashionedit.contracts.common import ErrorCode

from . import metrics
from .errors import Overloaded, summarize
from .redact import scrub

log = logging.getLogger("fashionedit.service")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("fashionedit_request_id", default=None)

# Routes that stay open without a token and are never subject to admission control.
OPEN_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics", "/docs.json", "/schema.json", "/favicon.ico"})
OPEN_PREFIXES = ("/static_assets", "/docs")

_STATUS_CODES: dict[int, ErrorCode] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "unauthorized",
    404: "not_found",
    405: "invalid_request",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "overloaded",
    502: "upstream_error",
    503: "unavailable",
    504: "upstream_timeout",
}


def current_request_id() -> str | None:
    """The id of the request being served (for logs and upstream headers)."""
    return _request_id.get()


def _is_open(path: str) -> bool:
    return path == "/" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, Message | None]:
    """The whole request body, or _BodyTooLarge once more than ``limit`` bytes arrived; also a disconnect, if one came."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), message
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _strict_problem(model: Any, body: bytes) -> tuple[str, list[ErrorDetail]] | None:
    """Validate the body strictly: no "256" for 256, no "yes" or false for other types (JSON ints still fill floats)."""
    from pydantic import ValidationError

    from .errors import validation_details

    try:
        model.model_validate_json(body or b"{}", strict=True)
    except ValidationError as exc:
        details = validation_details(exc.errors(include_input=False))
        return f"invalid request: {summarize(details)}", details
    return None


def _replay(body: bytes, disconnect: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands the application the buffered body, then whatever the connection says next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if disconnect is not None:
            return disconnect
        return await receive()

    return replay


class ServicePolicyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_concurrency: int,
        api_token: str | None = None,
        service: str = "service",
        max_body_bytes: int = 64 * 1024 * 1024,
        routes: dict[str, tuple[Any, Any, str]] | None = None,
    ) -> None:
        self.app = app
        self.routes = routes or {}
        self._document: bytes | None = None
        self.max_concurrency = max_concurrency
        self.max_body_bytes = max_body_bytes
        self.api_token = api_token.encode() if api_token else None
        self.service = service
        self.in_flight = 0
        metrics.set_in_flight_limit(service, max_concurrency)
        metrics.set_in_flight(service, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        request_id = request_id[:128]
        token = _request_id.set(request_id)
        path = scope.get("path", "")
        try:
            if self.api_token and not _is_open(path) and not self._authorized(headers.get("authorization", "")):
                await self._send_error(
                    send,
                    401,
                    "unauthorized",
                    "missing or wrong bearer token; send 'Authorization: Bearer <token>'",
                    request_id,
                    extra_headers={"WWW-Authenticate": "Bearer"},
                )
                return
            if path in ("/docs", "/docs/") and scope.get("method") in ("GET", "HEAD"):
                # BentoML serves its Swagger UI at "/"; "/docs" is where people (and FastAPI habits) look for it.
                await send(
                    {
                        "type": "http.response.start",
                        "status": 307,
                        "headers": [(b"location", b"/"), (b"content-length", b"0"), (b"x-request-id", request_id.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            if path == "/docs.json" and scope.get("method") == "GET" and self.routes:
                await self._send_document(send, request_id)
                return
            is_api = scope.get("method") == "POST" and not _is_open(path)
            if is_api and self.in_flight >= self.max_concurrency:
                metrics.count_overloaded(self.service, metrics.ADMISSION)
                # The same error (and retry signal: x-should-retry, Retry-After, error.retryable) a service raises.
                busy = Overloaded(
                    f"{self.service} is at its limit of {self.max_concurrency} requests in flight; retry shortly", retry_after=1.0
                )
                await self._send_error(
                    send,
                    busy.status,
                    busy.code,
                    busy.message,
                    request_id,
                    extra_headers=busy.headers(),
                    retry_after=busy.retry_after,
                    retryable=busy.retryable,
                )
                return
            if is_api:
                if not _is_json(headers.get("content-type", "")):
                    await self._send_error(
                        send,
                        415,
                        "unsupported_media_type",
                        f"{path} takes a JSON body; send it with 'Content-Type: application/json'",
                        request_id,
                    )
                    return
                declared = headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_body_bytes:
                    await self._send_error(send, 413, "payload_too_large", self._too_large(int(declared)), request_id)
                    return
            if is_api:
                self.in_flight += 1
                metrics.set_in_flight(self.service, self.in_flight)
            try:
                if is_api:
                    try:
                        body, disconnect = await _read_body(receive, self.max_body_bytes)
                    except _BodyTooLarge:
                        await self._send_error(send, 413, "payload_too_large", self._too_large(None), request_id)
                        return
                    receive = _replay(body, disconnect, receive)
                    if path in self.routes and disconnect is None:
                        problem = await asyncio.to_thread(_strict_problem, self.routes[path][0], body)
                        if problem is not None:
                            await self._send_error(send, 422, "invalid_request", problem[0], request_id, details=problem[1])
                            return
                await self.app(scope, receive, _EnvelopeSend(send, request_id, path))
            finally:
                if is_api:
                    self.in_flight -= 1
                    metrics.set_in_flight(self.service, self.in_flight)
        finally:
            _request_id.reset(token)

    async def _send_document(self, send: Send, request_id: str) -> None:
        if self._document is None:
            from .openapi import build_document

            self._document = json.dumps(build_document(f"FashionEdit {self.service}", "1", self.routes)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self._document)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self._document})

    def _too_large(self, size: int | None) -> str:
        sent = f"{size} bytes" if size is not None else "more than that"
        return (
            f"the request body is over {self.service}'s limit of {self.max_body_bytes} bytes (sent: {sent}); "
            "send fewer or smaller images"
        )

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return (
            scheme.lower() == "bearer"
            and self.api_token is not None
            and hmac.compare_digest(value.strip().encode(), self.api_token)
        )

    @staticmethod
    async def _send_error(
        send: Send,
        status: int,
        code: ErrorCode,
        message: str,
        request_id: str,
        *,
        extra_headers: dict[str, str] | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        details: list[ErrorDetail] | None = None,
    ) -> None:
        details = [d.model_copy(update={"message": scrub(d.message)}) for d in details or []]
        envelope = ErrorResponse.make(
            status,
            code,
            scrub(message),
            request_id=request_id,
            retry_after=retry_after,
            retryable=retryable,
            details=details,
        )
        body = envelope.model_dump_json(exclude_none=True).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in (extra_headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _EnvelopeSend:
    """Wraps ``send``: adds X-Request-ID, and rewrites non-envelope JSON error bodies."""

    def __init__(self, send: Send, request_id: str, path: str) -> None:
        self._send = send
        self._request_id = request_id
        self._path = path
        self._start: Message | None = None
        self._chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
            headers.append((b"x-request-id", self._request_id.encode()))
            message = {**message, "headers": headers}
            if message["status"] >= 400:
                self._start = message  # hold until the body is complete
                return
            await self._send(message)
            return
        if message["type"] == "http.response.body" and self._start is not None:
            self._chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, body = self._rewrite(self._start["status"], b"".join(self._chunks))
            headers = [(k, v) for k, v in self._start["headers"] if k.lower() not in (b"content-length", b"content-type")]
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await self._send({**self._start, "status": status, "headers": headers})
            await self._send({"type": "http.response.body", "body": body})
            return
        await self._send(message)

    def _rewrite(self, status: int, body: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), dict) and "code" in data["error"]:
            return status, body  # already ours
        if isinstance(data, (list, tuple)) and len(data) == 1:
            data = data[0]  # BentoML wraps some 4xx bodies in a 1-tuple
        message = None
        details: list[ErrorDetail] = []
        if isinstance(data, dict):
            message = data.get("error") or data.get("detail")
            raw_details = data.get("detail")
            if status == 400 and isinstance(raw_details, list):
                from .errors import validation_details

                details = validation_details([d for d in raw_details if isinstance(d, dict)])
                status = 422
                message = f"invalid request: {summarize(details)}"
        elif body:
            message = body.decode("utf-8", errors="replace")[:500].strip()
        if status >= 500 and status not in (502, 503, 504):
            log.error("unexpected error serving %s (request id %s)", self._path, self._request_id)
            message = f"internal error; quote request id {self._request_id} when reporting it"
        code = _STATUS_CODES.get(status, "internal_error" if status >= 500 else "invalid_request")
        if not isinstance(message, str) or not message:
            message = {404: f"no route {self._path}"}.get(status, "request failed")
        details = [d.model_copy(update={"message": scrub(d.message)}) for d in details]
        envelope = ErrorResponse.make(status, code, scrub(message), details=details, request_id=self._request_id)
        return status, envelope.model_dump_json(exclude_none=True).encode()
