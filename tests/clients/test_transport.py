"""SDK plumbing against an in-process HTTP stub (httpx.MockTransport): retries, errors, replicas, auth, timeouts."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from PIL import Image

from fashionedit.client import (
    APIError,
    AsyncGeneratorClient,
    AuthenticationError,
    ClientSettings,
    EditorClient,
    GeneratorClient,
    InvalidRequestError,
    ScorerClient,
    ServiceConnectionError,
    ServiceTimeoutError,
    ServiceUnavailableError,
    UpstreamError,
)
from fashionedit.client.errors import parse_retry_after, parse_should_retry
from fashionedit.client.transport import RetryPolicy
from fashionedit.contracts import ErrorResponse, GeneratedImage, GenerateResponse, ImagePayload, ModelInfo, Timings

PNG = ImagePayload.from_pil(Image.new("RGB", (16, 16), (10, 20, 30)))


def generate_body(seed: int = 1) -> dict:
    return GenerateResponse(
        images=[GeneratedImage(image=PNG, seed=seed)],
        model=ModelInfo(backend="stub", model_id="stub", offline=True),
        timings=Timings(total_ms=1.0),
    ).model_dump(mode="json")


def error(
    status: int, code: str, message: str = "nope", retry_after: float | None = None, headers: dict | None = None
) -> httpx.Response:
    body = ErrorResponse.make(status, code, message, request_id="req-1", retry_after=retry_after).model_dump(
        mode="json", exclude_none=True
    )
    return httpx.Response(status, json=body, headers=headers or {})


def fast_settings(**kw) -> ClientSettings:
    base = dict(
        generator_url="http://a.test:1",
        editor_url="http://e.test:1",
        analyzer_url="http://z.test:1",
        scorer_url="http://s.test:1",
        backoff_initial_s=0.001,
        backoff_max_s=0.05,
        max_attempts=4,
        api_token=None,
    )
    base.update(kw)
    return ClientSettings(**base)


def sync_client(handler, **kw) -> GeneratorClient:
    return GeneratorClient(fast_settings(**kw), http=httpx.Client(transport=httpx.MockTransport(handler)))


def test_success_parses_the_contract_and_sends_the_request_model():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert request.url.path == "/v1/generate"
        return httpx.Response(200, json=generate_body(seed=42))

    response = sync_client(handler).generate(prompt="a white blazer", width=64, height=64, seed=42)
    assert isinstance(response, GenerateResponse) and response.images[0].seed == 42
    assert response.images[0].image.size == (16, 16)
    assert seen[0]["prompt"] == "a white blazer" and seen[0]["width"] == 64 and "negative_prompt" in seen[0]


def test_invalid_request_is_refused_before_sending():
    def handler(request):  # pragma: no cover - must not be called
        raise AssertionError("sent")

    with pytest.raises(ValueError, match="must not be empty"):
        sync_client(handler).generate(prompt="   ")


def test_503_overloaded_is_retried_honouring_retry_after_then_succeeds():
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        if len(calls) < 3:
            return error(503, "overloaded", retry_after=0.2, headers={"Retry-After": "1"})
        return httpx.Response(200, json=generate_body())

    client = sync_client(handler, backoff_max_s=5.0)
    client.generate(prompt="x", width=64, height=64)
    assert len(calls) == 3
    # The body's precise retry_after (0.2 s) wins over the rounded header; each wait honoured it.
    assert calls[1] - calls[0] >= 0.19 and calls[2] - calls[1] >= 0.19


def test_retry_after_is_capped_by_backoff_max():
    calls = []

    def handler(request):
        calls.append(time.monotonic())
        return error(503, "not_ready", retry_after=60) if len(calls) == 1 else httpx.Response(200, json=generate_body())

    start = time.monotonic()
    sync_client(handler, backoff_max_s=0.05).generate(prompt="x", width=64, height=64)
    assert time.monotonic() - start < 2.0 and len(calls) == 2


def test_503_retries_are_bounded_and_the_error_carries_the_response():
    calls = []

    def handler(request):
        calls.append(1)
        return error(503, "overloaded", "too many requests in flight", retry_after=0.0)

    with pytest.raises(ServiceUnavailableError) as info:
        sync_client(handler, max_attempts=3).generate(prompt="x", width=64, height=64)
    assert len(calls) == 3
    exc = info.value
    assert exc.status == 503 and exc.code == "overloaded" and exc.request_id == "req-1" and exc.attempts == 3
    assert isinstance(exc.response, ErrorResponse) and exc.response.error.message == "too many requests in flight"


def test_503_unavailable_capability_is_not_retried():
    calls = []

    def handler(request):
        calls.append(1)
        return error(503, "unavailable", "CLIP weights are not configured")

    with pytest.raises(ServiceUnavailableError, match="CLIP weights"):
        sync_client(handler).generate(prompt="x", width=64, height=64)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (422, "invalid_request", InvalidRequestError),
        (401, "unauthorized", AuthenticationError),
        (502, "upstream_error", UpstreamError),
        (504, "upstream_timeout", UpstreamError),
        (500, "internal_error", APIError),
    ],
)
def test_errors_map_to_exception_classes_without_retry(status, code, cls):
    calls = []

    def handler(request):
        calls.append(1)
        return error(status, code, "what to do")

    with pytest.raises(cls) as info:
        sync_client(handler).generate(prompt="x", width=64, height=64)
    assert info.value.status == status and info.value.code == code and len(calls) == 1
    assert "what to do" in str(info.value)


# (status, code, x-should-retry header, error.retryable in the body) -> attempts the transport makes (max_attempts 4).
# The service owns retries against its provider, so its upstream errors are final here; what it answered without
# calling the provider (busy, loading, a slot queue that timed out) is retried.
RETRY_DECISIONS = [
    (503, "overloaded", None, None, 4),
    (503, "not_ready", None, None, 4),
    (503, "overloaded", "true", True, 4),
    (503, "upstream_unavailable", "false", False, 1),  # what a service answers once the SDK's retries are spent
    (503, "upstream_unavailable", "false", None, 1),  # the header alone is enough
    (503, "upstream_unavailable", None, False, 1),  # so is the body field alone (the body wins over the header)
    (503, "upstream_unavailable", None, None, 1),  # an older service without either: its provider was still retried
    (503, "upstream_unavailable", "true", True, 4),  # the editor's provider slots stayed busy: nothing reached the provider
    (503, "overloaded", "false", None, 1),  # the service's word beats the code
    (503, "unavailable", None, None, 1),
    (502, "upstream_error", "false", False, 1),
    (504, "upstream_timeout", "false", False, 1),
    (504, "timeout", None, None, 1),
    (500, "internal_error", None, None, 1),
    (500, "internal_error", "true", None, 4),  # retried only because the service says so
    (422, "invalid_request", None, None, 1),
]


@pytest.mark.parametrize("status,code,header,body_flag,attempts", RETRY_DECISIONS)
def test_transport_retries_only_what_the_service_did_not_retry(status, code, header, body_flag, attempts):
    calls = []

    def handler(request):
        calls.append(1)
        body = ErrorResponse.make(status, code, "x", retry_after=0.0, retryable=body_flag)
        body = body.model_dump(mode="json", exclude_none=True)
        return httpx.Response(status, json=body, headers={"x-should-retry": header} if header else {})

    with pytest.raises(APIError) as info:
        sync_client(handler, max_attempts=4).generate(prompt="x", width=64, height=64)
    assert len(calls) == attempts and info.value.attempts == attempts
    assert info.value.retryable == (body_flag if body_flag is not None else {"true": True, "false": False, None: None}[header])


def test_should_retry_header_on_a_body_that_is_not_an_error_response():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(503, text="<html>busy</html>", headers={"x-should-retry": "true", "retry-after": "0"})

    with pytest.raises(ServiceUnavailableError) as info:
        sync_client(handler, max_attempts=3).generate(prompt="x", width=64, height=64)
    assert len(calls) == 3 and info.value.retryable is True


def test_parse_should_retry():
    assert [parse_should_retry(v) for v in ("true", "FALSE", " false ", "1", "", None)] == [True, False, False, None, None, None]


def test_error_without_error_body_is_synthesised():
    def handler(request):
        return httpx.Response(502, text="<html>Bad Gateway</html>", headers={"x-request-id": "proxy-7"})

    with pytest.raises(UpstreamError) as info:
        sync_client(handler).generate(prompt="x", width=64, height=64)
    body = info.value.response.error
    assert body.code == "upstream_error" and "Bad Gateway" in body.message and body.request_id == "proxy-7"


def test_connection_errors_are_retried_then_raise_with_advice():
    calls = []

    def handler(request):
        calls.append(1)
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ServiceConnectionError, match="fashionedit up") as info:
        sync_client(handler, max_attempts=3).generate(prompt="x", width=64, height=64)
    assert len(calls) == 3 and info.value.attempts == 3


def test_real_refused_connection_counts_as_connection_error():
    from tests.support.servers import free_port

    client = GeneratorClient(fast_settings(generator_url=f"http://127.0.0.1:{free_port()}", max_attempts=2))
    with pytest.raises(ServiceConnectionError):
        client.info()


def test_round_robin_spreads_calls_and_skips_a_dead_replica():
    hosts = []

    def handler(request):
        hosts.append(request.url.host)
        if request.url.host == "dead.test":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=generate_body())

    client = sync_client(handler, generator_url="http://a.test:1,http://dead.test:1,http://b.test:1")
    for _ in range(6):
        client.generate(prompt="x", width=64, height=64)
    ok = [h for h in hosts if h != "dead.test"]
    assert ok.count("a.test") >= 2 and ok.count("b.test") >= 2 and len(ok) == 6


def test_read_timeout_is_not_retried_by_default():
    calls = []

    def handler(request):
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ServiceTimeoutError):
        sync_client(handler).generate(prompt="x", width=64, height=64)
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(ServiceTimeoutError):
        sync_client(handler, retry_read_timeouts=True, max_attempts=2).generate(prompt="x", width=64, height=64)
    assert len(calls) == 2


def test_bearer_token_and_per_operation_timeouts():
    seen = []

    def handler(request):
        seen.append((request.url.path, request.headers.get("authorization"), request.extensions["timeout"]))
        if request.url.path == "/v1/info":
            return httpx.Response(200, json={"service": "generator", "version": "1", "ready": True})
        return httpx.Response(200, json=generate_body())

    settings = fast_settings(api_token="s3cret", generate_timeout_s=123.0, info_timeout_s=7.0, connect_timeout_s=2.0)
    client = GeneratorClient(settings)
    client.transport.http = httpx.Client(transport=httpx.MockTransport(handler), headers=client.transport.http.headers)
    client.generate(prompt="x", width=64, height=64)
    assert client.info().ready
    (p1, auth1, t1), (p2, auth2, t2) = seen
    assert auth1 == auth2 == "Bearer s3cret"
    assert t1["read"] == 123.0 and t1["connect"] == 2.0 and t2["read"] == 7.0
    assert "s3cret" not in repr(settings)


def test_editor_and_scorer_accept_pil_paths_and_tuples(tmp_path):
    bodies = {}

    def handler(request):
        bodies[request.url.path] = json.loads(request.content)
        return error(422, "invalid_request", "stub")

    path = tmp_path / "ref.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    settings = fast_settings()
    editor = EditorClient(settings, http=httpx.Client(transport=httpx.MockTransport(handler)))
    scorer = ScorerClient(settings, http=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(InvalidRequestError):
        editor.edit(
            image=Image.new("RGB", (8, 8)), instruction="add a pocket", references=[path], target_box=[100, 100, 500, 500]
        )
    with pytest.raises(InvalidRequestError):
        scorer.score([("p1", Image.new("RGB", (8, 8)), path)])
    edit = bodies["/v1/edit"]
    assert ImagePayload(edit["references"][0]).to_bytes() == path.read_bytes()
    assert edit["target_box"] == [100, 100, 500, 500]
    assert bodies["/v1/score"]["pairs"][0]["id"] == "p1"


def test_backoff_has_jitter_and_bounds():
    policy = RetryPolicy(max_attempts=5, backoff_initial_s=1.0, backoff_max_s=4.0)
    delays = [policy.delay(3) for _ in range(50)]
    assert all(2.0 <= d <= 4.0 for d in delays) and len(set(delays)) > 1
    assert policy.delay(10) <= 4.0 and policy.delay(1, retry_after=2.5) == 2.5 and policy.delay(1, retry_after=99) == 4.0
    assert parse_retry_after("3") == 3.0 and parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_urls_from_environment_list(monkeypatch):
    monkeypatch.setenv("FASHIONEDIT_SCORER_URL", "http://r1:3004, http://r2:3004/")
    monkeypatch.setenv("FASHIONEDIT_API_TOKEN", "tok")
    settings = ClientSettings()
    assert settings.scorer_url == ["http://r1:3004", "http://r2:3004"] and settings.token() == "tok"
    with pytest.raises(ValueError, match="http"):
        ClientSettings(editor_url="ftp://nope")


async def test_async_client_bounds_concurrency_across_many_calls():
    in_flight = 0
    peak = 0
    hosts = []

    async def handler(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        hosts.append(request.url.host)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return httpx.Response(200, json=generate_body())

    settings = fast_settings(generator_url="http://r1.test:1,http://r2.test:1")
    async with AsyncGeneratorClient(
        settings, http=httpx.AsyncClient(transport=httpx.MockTransport(handler)), max_concurrency=5
    ) as gen:
        results = await asyncio.gather(*(gen.generate(prompt="x", width=64, height=64) for _ in range(60)))
    assert len(results) == 60 and peak == 5
    assert hosts.count("r1.test") == hosts.count("r2.test") == 30


async def test_async_retries_503_then_succeeds():
    calls = []

    async def handler(request):
        calls.append(1)
        return error(503, "not_ready", retry_after=0.01) if len(calls) == 1 else httpx.Response(200, json=generate_body())

    async with AsyncGeneratorClient(fast_settings(), http=httpx.AsyncClient(transport=httpx.MockTransport(handler))) as gen:
        response = await gen.generate(prompt="x", width=64, height=64)
    assert response.images and len(calls) == 2


def test_replicas_set_aside_an_unreachable_one_and_a_call_never_retries_it() -> None:
    from fashionedit.client.transport import Replicas

    replicas = Replicas(["http://a", "http://dead", "http://b"], cooldown_s=60)
    replicas.mark_unreachable("http://dead")
    assert {replicas.next() for _ in range(12)} == {"http://a", "http://b"}
    # one call that already failed on both live replicas still gets an answer (the set-aside one last)
    assert replicas.next(avoid={"http://a", "http://b"}) == "http://dead"
    assert replicas.next(avoid={"http://a"}) == "http://b"
    replicas.mark_reachable("http://dead")
    assert "http://dead" in {replicas.next() for _ in range(3)}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_idle_connection_is_not_reused_past_the_keepalive_expiry(kind, monkeypatch) -> None:
    """A request never goes out on a connection idle long enough for the server to be closing it (uvicorn closes
    after 5 s; a request sent at that instant gets a reset): the SDK drops idle connections first."""
    import http.server
    import threading

    from fashionedit.client import transport

    monkeypatch.setattr(transport, "KEEPALIVE_EXPIRY_S", 0.3)
    connections: list[int] = []
    body = json.dumps(generate_body()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def setup(self) -> None:
            connections.append(1)
            super().setup()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = fast_settings(generator_url=f"http://127.0.0.1:{server.server_address[1]}")
    try:
        if kind == "sync":
            with GeneratorClient(settings) as gen:
                for pause in (0.0, 0.0, 0.6):
                    time.sleep(pause)
                    gen.generate(prompt="x", width=64, height=64)
        else:

            async def calls() -> None:
                async with AsyncGeneratorClient(settings) as gen:
                    for pause in (0.0, 0.0, 0.6):
                        await asyncio.sleep(pause)
                        await gen.generate(prompt="x", width=64, height=64)

            asyncio.run(calls())
    finally:
        server.shutdown()
        server.server_close()
    assert len(connections) == 2  # back to back: one connection reused; after the pause: a fresh one
