"""HTTP plumbing shared by the sync and async clients: replicas, retries, error mapping.

One call = one JSON POST. Each hop has one owner of its retries: this transport owns the hop to the
service, the service owns the hop to its model provider. So a call is retried (bounded, exponential
backoff with jitter, honouring Retry-After) only when it spent nothing upstream: no connection could be
made, or the service itself is busy (503 ``overloaded``, ``not_ready``), or the service says so
(``x-should-retry: true`` / ``error.retryable``). An answer marked ``x-should-retry: false`` is final:
the service already retried its provider (503 ``upstream_unavailable``, 502, 504 ``upstream_timeout``).
A 503 ``unavailable`` (a capability that is not configured, e.g. CLIP without weights) is final, as are
4xx/5xx other than 503. Each attempt goes to the next replica round-robin, so a dead replica costs one
attempt, not the call.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from . import __version__
from .errors import (
    APIError,
    FashionEditError,
    ServiceConnectionError,
    ServiceTimeoutError,
    error_class,
    parse_error_response,
)
from .settings import ClientSettings, ServiceName

Resp = TypeVar("Resp", bound=BaseModel)

# 503s the service answers without having called its provider. ``upstream_unavailable`` is not one: the
# service already retried the provider, and retrying here would multiply its calls (max_attempts x SDK tries).
RETRYABLE_503_CODES = frozenset({"overloaded", "not_ready"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_read_timeouts: bool = False

    @classmethod
    def from_settings(cls, settings: ClientSettings) -> RetryPolicy:
        return cls(settings.max_attempts, settings.backoff_initial_s, settings.backoff_max_s, settings.retry_read_timeouts)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_s)
        base = min(self.backoff_initial_s * 2 ** (attempt - 1), self.backoff_max_s)
        # "Equal jitter": never less than half the backoff, so replicas get a real pause,
        # but callers retrying together spread out.
        return base / 2 + random.uniform(0, base / 2)


class Replicas:
    """Round-robin over a service's base URLs (thread-safe), setting aside replicas that refused a connection.

    The cycle is shared by every call in flight, so without the set-aside a burst of concurrent calls could
    draw a dead replica on each of one call's attempts. A replica that failed to connect is skipped for
    ``cooldown_s`` (unless every replica is set aside), and one call never retries a replica it already
    failed on while another remains.
    """

    def __init__(self, urls: list[str], *, cooldown_s: float = 5.0) -> None:
        if not urls:
            raise ValueError("a service needs at least one URL")
        self.urls = list(urls)
        self.cooldown_s = cooldown_s
        self._cycle = itertools.cycle(range(len(self.urls)))
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def next(self, avoid: frozenset[str] | set[str] = frozenset()) -> str:
        with self._lock:
            now = time.monotonic()
            for _ in range(len(self.urls)):
                url = self.urls[next(self._cycle)]
                if url not in avoid and self._down_until.get(url, 0.0) <= now:
                    return url
            # Every replica is avoided or cooling down: the one whose set-aside ends first, untried ones first.
            candidates = [u for u in self.urls if u not in avoid] or self.urls
            return min(candidates, key=lambda u: self._down_until.get(u, 0.0))

    def mark_unreachable(self, url: str) -> None:
        with self._lock:
            self._down_until[url] = time.monotonic() + self.cooldown_s

    def mark_reachable(self, url: str) -> None:
        if url in self._down_until:
            with self._lock:
                self._down_until.pop(url, None)


KEEPALIVE_EXPIRY_S = 2.0


def retryable(error: APIError) -> bool:
    """Whether another attempt may help and costs no upstream call: the service's own word first, then its 503 code."""
    if error.retryable is not None:
        return error.retryable
    return error.status == 503 and error.code in RETRYABLE_503_CODES


class _CallState:
    """What one logical call has seen so far; decides whether and how long to wait."""

    def __init__(self, service: str, replicas: Replicas, policy: RetryPolicy, timeout_s: float) -> None:
        self.service = service
        self.replicas = replicas
        self.policy = policy
        self.timeout_s = timeout_s
        self.attempt = 0
        self.last_connect_error: Exception | None = None
        self.unreachable: set[str] = set()

    def next_url(self) -> str:
        self.attempt += 1
        return self.replicas.next(avoid=self.unreachable)

    def on_response(self, url: str, response: httpx.Response, response_model: type[Resp]) -> tuple[Resp | None, float | None]:
        """``(parsed, None)`` on success, ``(None, delay)`` to retry; raises when final."""
        self.replicas.mark_reachable(url)
        if response.is_success:
            try:
                return response_model.model_validate_json(response.content), None
            except ValidationError as exc:
                raise FashionEditError(
                    f"{self.service} at {url} answered {response.status_code} with a body that is not a "
                    f"{response_model.__name__}: {exc.error_count()} problems, first: {exc.errors()[0]['msg']}"
                ) from exc
        error = error_class(response.status_code)(
            parse_error_response(response), service=self.service, url=url, attempts=self.attempt
        )
        if retryable(error) and self.attempt < self.policy.max_attempts:
            return None, self.policy.delay(self.attempt, error.retry_after)
        raise error

    def on_transport_error(self, url: str, exc: httpx.TransportError) -> float:
        """Delay before the next attempt; raises when the error is final."""
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)) or (
            isinstance(exc, httpx.RemoteProtocolError) and "without sending" in str(exc).lower()
        ):
            self.last_connect_error = exc
            self.unreachable.add(url)
            self.replicas.mark_unreachable(url)
            if self.attempt < self.policy.max_attempts:
                return self.policy.delay(self.attempt)
            raise ServiceConnectionError(
                f"could not reach the {self.service} at {', '.join(self.replicas.urls)} after {self.attempt} attempts "
                f"({type(exc).__name__}: {exc}); is it running? `fashionedit up` starts all four services locally",
                service=self.service,
                urls=self.replicas.urls,
                attempts=self.attempt,
            ) from exc
        if isinstance(exc, httpx.TimeoutException):
            if self.policy.retry_read_timeouts and self.attempt < self.policy.max_attempts:
                return self.policy.delay(self.attempt)
            raise ServiceTimeoutError(
                f"the {self.service} at {url} did not answer within {self.timeout_s:.0f}s; "
                f"raise FASHIONEDIT_<OP>_TIMEOUT_S if the model is slow on this machine",
                service=self.service,
                url=url,
                timeout_s=self.timeout_s,
            ) from exc
        # Connection dropped mid-answer: the work may have run, so it is not retried blindly.
        raise ServiceConnectionError(
            f"the {self.service} at {url} dropped the connection ({type(exc).__name__}: {exc})",
            service=self.service,
            urls=[url],
            attempts=self.attempt,
        ) from exc


def _headers(token: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"fashionedit-client/{__version__}", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def dump_request(request: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(request, BaseModel):
        return request.model_dump(mode="json", exclude_none=True)
    return request


class SyncTransport:
    def __init__(self, service: ServiceName, settings: ClientSettings, *, client: httpx.Client | None = None) -> None:
        self.service = service
        self.settings = settings
        self.replicas = Replicas(settings.urls(service))
        self.policy = RetryPolicy.from_settings(settings)
        self._owns_client = client is None
        # Idle connections expire before the server's keep-alive closes them (see AsyncTransport).
        limits = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S)
        self.http = client or httpx.Client(headers=_headers(settings.token()), limits=limits, follow_redirects=False)

    def _timeout(self, operation: str) -> httpx.Timeout:
        return httpx.Timeout(self.settings.timeout_for(operation), connect=self.settings.connect_timeout_s)

    def post(self, path: str, request: BaseModel | dict[str, Any], response_model: type[Resp], *, operation: str) -> Resp:
        body = dump_request(request)
        state = _CallState(self.service, self.replicas, self.policy, self.settings.timeout_for(operation))
        while True:
            url = state.next_url()
            try:
                response = self.http.post(url + path, json=body, timeout=self._timeout(operation))
            except httpx.TransportError as exc:
                time.sleep(state.on_transport_error(url, exc))
                continue
            parsed, delay = state.on_response(url, response, response_model)
            if parsed is not None:
                return parsed
            time.sleep(delay or 0.0)

    def ready(self, url: str | None = None) -> bool:
        """True when ``url`` (default: every replica) answers 200 on /readyz."""
        urls = [url] if url else self.replicas.urls
        for base in urls:
            try:
                if self.http.get(base + "/readyz", timeout=self._timeout("info")).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def close(self) -> None:
        if self._owns_client:
            self.http.close()


class AsyncTransport:
    def __init__(
        self,
        service: ServiceName,
        settings: ClientSettings,
        *,
        client: httpx.AsyncClient | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.replicas = Replicas(settings.urls(service))
        self.policy = RetryPolicy.from_settings(settings)
        self.max_concurrency = max_concurrency or settings.max_concurrency
        # Bounds calls in flight (retries' waits included) so thousands of queued calls
        # never open thousands of sockets or overrun the replicas' admission limits.
        self.semaphore = asyncio.Semaphore(self.max_concurrency)
        self._owns_client = client is None
        # Idle connections expire before the server's keep-alive (uvicorn: 5 s) closes them, so a request never
        # goes out on a connection the server is closing at that instant (ReadError / reset under load).
        limits = httpx.Limits(
            max_connections=self.max_concurrency + 4,
            max_keepalive_connections=self.max_concurrency,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        self.http = client or httpx.AsyncClient(headers=_headers(settings.token()), limits=limits, follow_redirects=False)

    def _timeout(self, operation: str) -> httpx.Timeout:
        return httpx.Timeout(
            self.settings.timeout_for(operation),
            connect=self.settings.connect_timeout_s,
            # Waiting for a pooled connection is queueing, not a fault; the semaphore bounds it.
            pool=None,
        )

    async def post(self, path: str, request: BaseModel | dict[str, Any], response_model: type[Resp], *, operation: str) -> Resp:
        body = dump_request(request)
        state = _CallState(self.service, self.replicas, self.policy, self.settings.timeout_for(operation))
        async with self.semaphore:
            while True:
                url = state.next_url()
                try:
                    response = await self.http.post(url + path, json=body, timeout=self._timeout(operation))
                except httpx.TransportError as exc:
                    await asyncio.sleep(state.on_transport_error(url, exc))
                    continue
                parsed, delay = state.on_response(url, response, response_model)
                if parsed is not None:
                    return parsed
                await asyncio.sleep(delay or 0.0)

    async def ready(self, url: str | None = None) -> bool:
        urls = [url] if url else self.replicas.urls
        for base in urls:
            try:
                if (await self.http.get(base + "/readyz", timeout=self._timeout("info"))).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    async def aclose(self) -> None:
        if self._owns_client:
            await self.http.aclose()
