"""Injected provider faults, for both OpenAI backends: each ends in one clear gateway error.

Retries are the SDK's (``max_retries``); the request log shows how many attempts were made.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from fashionedit.contracts import EditRequest
from fashionedit.services.common import UpstreamError, UpstreamTimeout, UpstreamUnavailable

from .conftest import openai_serving

BACKENDS = [("openai-responses", "responses"), ("openai-images", "images")]


@pytest.fixture(params=BACKENDS, ids=[b for b, _ in BACKENDS])
def backend(request):
    return request.param


def edit_request(design) -> EditRequest:
    return EditRequest(image=design, instruction="Add a belt.")


async def test_429_with_retry_after_is_retried_then_503_with_retry_after(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_max_retries=1)
    openai_fake.script(endpoint, {"status": 429, "headers": {"Retry-After": "1"}, "times": 2})
    start = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as info:
        await serving.edit(edit_request(design))
    elapsed = time.monotonic() - start
    log = openai_fake.requests(endpoint)
    assert [entry["status"] for entry in log] == [429, 429]  # one try + one retry
    assert log[1]["headers"]["x-stainless-retry-count"] == "1"
    assert elapsed >= 1.0  # the SDK waited as Retry-After asked
    assert log[1]["received_at"] - log[0]["answered_at"] >= 0.95
    assert info.value.status == 503 and info.value.retry_after == 1.0
    # The SDK's retries were the retries: the caller is told not to add its own.
    assert info.value.headers() == {"Retry-After": "1", "x-should-retry": "false"}
    assert "429" in info.value.message
    await serving.aclose()


async def test_a_429_then_success_recovers(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_max_retries=2)
    openai_fake.script(endpoint, {"status": 429, "headers": {"retry-after-ms": "20"}})
    response = await serving.edit(edit_request(design))
    assert [entry["status"] for entry in openai_fake.requests(endpoint)] == [429, 200]
    assert response.image.size == (64, 64)
    await serving.aclose()


async def test_503_after_retries_is_upstream_unavailable(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_max_retries=1)
    openai_fake.script(endpoint, {"status": 503, "headers": {"retry-after-ms": "10"}, "times": 2})
    with pytest.raises(UpstreamUnavailable) as info:
        await serving.edit(edit_request(design))
    assert len(openai_fake.requests(endpoint)) == 2
    assert info.value.status == 503 and "503" in info.value.message and info.value.retry_after is not None
    await serving.aclose()


async def test_500_after_retries_is_a_502(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_max_retries=0)
    openai_fake.script(endpoint, {"status": 500})
    with pytest.raises(UpstreamError) as info:
        await serving.edit(edit_request(design))
    assert info.value.status == 502 and "500" in info.value.message
    await serving.aclose()


async def test_timeout_is_retried_then_504(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_timeout_s=0.3, openai_max_retries=1)
    openai_fake.script(endpoint, {"delay_s": 1.5, "times": 2})
    with pytest.raises(UpstreamTimeout) as info:
        await serving.edit(edit_request(design))
    assert len(openai_fake.requests(endpoint)) == 2
    assert info.value.status == 504 and "0.3 s" in info.value.message
    await serving.aclose()


@pytest.mark.parametrize(
    "reply",
    [
        {"body": "<html>upstream proxy error</html>"},  # not JSON at all
        {"json": {"object": "response", "output": "not a list"}},  # JSON, wrong shape (responses)
        {"json": {"created": 1, "data": [{"b64_json": "bm90IGFuIGltYWdl"}]}},  # an image that is not one
        {"image_b64": "%%%not-base64%%%"},
    ],
    ids=["not-json", "wrong-shape", "not-an-image", "bad-base64"],
)
async def test_malformed_output_is_a_502(openai_fake, design, backend, reply):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name)
    openai_fake.script(endpoint, reply)
    with pytest.raises(UpstreamError) as info:
        await serving.edit(edit_request(design))
    assert info.value.status == 502
    await serving.aclose()


async def test_no_image_is_a_502(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name)
    openai_fake.script(endpoint, {"no_image": True})
    with pytest.raises(UpstreamError, match="without an image"):
        await serving.edit(edit_request(design))
    await serving.aclose()


async def test_a_rejected_key_is_a_502_that_never_shows_the_key(openai_fake, design, backend):
    name, endpoint = backend
    secret = "sk-wrong-but-secret-1234567890"
    serving = openai_serving(openai_fake, name, openai_api_key=secret)
    with pytest.raises(UpstreamError) as info:
        await serving.edit(edit_request(design))
    assert info.value.status == 502 and "API key" in info.value.message
    assert secret not in info.value.message and secret[-4:] not in info.value.message
    assert secret not in repr(serving.settings) and secret not in serving.info().model_dump_json()
    await serving.aclose()


async def test_provider_slots_bound_concurrent_calls(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_max_concurrency=1)
    openai_fake.script(endpoint, {"delay_s": 0.4, "times": 2})
    await asyncio.gather(*(serving.edit(edit_request(design)) for _ in range(2)))
    first, second = sorted(openai_fake.requests(endpoint), key=lambda e: e["received_at"])
    assert second["received_at"] >= first["answered_at"] - 0.01  # one slot: the second waited for the first
    await serving.aclose()


async def test_slot_wait_is_bounded(openai_fake, design, backend):
    name, endpoint = backend
    serving = openai_serving(openai_fake, name, openai_max_concurrency=1, openai_queue_timeout_s=0.1)
    openai_fake.script(endpoint, {"delay_s": 0.6})
    results = await asyncio.gather(*(serving.edit(edit_request(design)) for _ in range(2)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], UpstreamUnavailable) and "slots" in errors[0].message
    await serving.aclose()
