"""One owner per retry, counted: a provider answering 429 throughout sees a bounded, documented number of calls.

Real processes only: the local OpenAI-protocol server (429 with a short retry-after-ms on every request), an
editor (openai-responses) and an analyzer (openai-chat) under `bentoml serve` on their default retry settings,
and the client SDK's own benchmark runner and dataset builder with their default retry settings.

The bound (docs/SERVICE_CONVENTIONS.md, "Retries"): one step makes one service call, the service tries its
provider 1 + max_retries times (default 2: 3 calls), and marks its 503 ``x-should-retry: false``, so neither the
transport (max_attempts 4) nor the step layer (item_attempts 3) repeats it.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from PIL import Image

from fashionedit.client.benchmark import RunConfig
from fashionedit.client.benchmark.runner import BenchmarkRunner, load_records
from fashionedit.client.dataset import BuildConfig, DatasetBuilder
from fashionedit.client.local import TARGETS
from fashionedit.client.settings import ClientSettings
from fashionedit.contracts import ErrorResponse, ImagePayload
from fashionedit.flats import write_synthetic_dataset
from fashionedit.services.analyzer.settings import AnalyzerSettings
from fashionedit.services.editor.settings import EditorSettings
from tests.support.fixtures import openai_fake, openai_server  # noqa: F401
from tests.support.servers import BentoServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SIZE = 64
# The documented bound with every default: 1 + the service's max_retries (2) upstream calls per step.
UPSTREAM_CALLS_PER_STEP = 3
RATE_LIMITED = {
    "status": 429,
    "headers": {"retry-after-ms": "20"},
    "times": 1000,
    "error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"},
}


def test_the_documented_bound_is_the_defaults():
    assert EditorSettings().openai_max_retries + 1 == UPSTREAM_CALLS_PER_STEP
    assert AnalyzerSettings().max_retries + 1 == UPSTREAM_CALLS_PER_STEP
    # The layers above the service keep their retries for what they own; they must not multiply this one.
    assert ClientSettings().max_attempts == 4 and RunConfig(dataset=".", out=".").item_attempts == 3


@pytest.fixture(scope="module")
def gateways(openai_server, tmp_path_factory):
    """An editor and an analyzer on the paper's OpenAI backends, default retry settings, pointed at the test server."""
    logs = tmp_path_factory.mktemp("retry-bound")
    common = {"OMP_NUM_THREADS": "1"}
    editor = BentoServer(
        TARGETS["editor"],
        env={
            **common,
            "FASHIONEDIT_EDITOR_BACKEND": "openai-responses",
            "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": openai_server.base_url,
            "FASHIONEDIT_EDITOR_OPENAI_API_KEY": openai_server.api_key,
        },
        log_path=logs / "editor.log",
        startup_timeout=240,
    )
    analyzer = BentoServer(
        TARGETS["analyzer"],
        env={
            **common,
            "FASHIONEDIT_ANALYZER_BACKEND": "openai-chat",
            "FASHIONEDIT_ANALYZER_OPENAI_BASE_URL": openai_server.base_url,
            "FASHIONEDIT_ANALYZER_OPENAI_API_KEY": openai_server.api_key,
        },
        log_path=logs / "analyzer.log",
        startup_timeout=240,
    )
    with editor, analyzer:
        yield {"editor": editor, "analyzer": analyzer}


@pytest.fixture(scope="module")
def one_item_dataset(service_stack, tmp_path_factory):
    root = tmp_path_factory.mktemp("retry-bound-ds")
    write_synthetic_dataset(root / "src", 2, seed=3, image_size=(SIZE, SIZE))
    config = BuildConfig(
        source=root / "src",
        out=root / "ds",
        selection="all",
        drafts_from=root / "src/drafts",
        differences_from=root / "src/ground_truth.jsonl",
        image_size=SIZE,
        val_size=1,
        require_k=False,
        concurrency=1,
    )
    asyncio.run(DatasetBuilder(config, service_stack.client_settings()).run())
    return root


def upstream_calls(openai_fake, endpoint: str) -> list[dict]:
    sent = openai_fake.requests(endpoint)
    assert all(r["status"] == 429 for r in sent)
    return sent


async def test_one_benchmark_step_against_a_rate_limiting_provider(
    service_stack,
    gateways,
    openai_fake,
    one_item_dataset,
    tmp_path,
):
    openai_fake.script("responses", RATE_LIMITED)
    settings = service_stack.client_settings(editor_url=[gateways["editor"].url])
    config = RunConfig(
        dataset=one_item_dataset / "ds", out=tmp_path / "run", methods=["Vanilla"], rounds=1, limit=1, concurrency=1
    )
    started = time.monotonic()
    await asyncio.wait_for(BenchmarkRunner(config, settings).run(), timeout=120)
    elapsed = time.monotonic() - started

    sent = upstream_calls(openai_fake, "responses")
    assert len(sent) == UPSTREAM_CALLS_PER_STEP
    # The SDK's own retries, numbered by the SDK: one service call, not several.
    assert [r["headers"].get("x-stainless-retry-count") for r in sent] == ["0", "1", "2"]
    [record] = load_records(tmp_path / "run").values()
    assert record.status == "failed" and record.attempts == 1
    assert "503 upstream_unavailable" in record.error and "rate-limiting" in record.error and "after 2 retries" in record.error
    assert elapsed < 60  # short Retry-After honoured once per SDK retry, no transport or step backoff on top


async def test_one_dataset_build_step_against_a_rate_limiting_provider(
    service_stack,
    gateways,
    openai_fake,
    one_item_dataset,
    tmp_path,
):
    openai_fake.script("chat", RATE_LIMITED)
    src = one_item_dataset / "src"
    settings = service_stack.client_settings(analyzer_url=[gateways["analyzer"].url])
    config = BuildConfig(
        source=src,
        out=tmp_path / "ds",
        selection="all",
        drafts_from=src / "drafts",
        image_size=SIZE,
        limit=1,
        val_size=0,
        require_k=False,
        concurrency=1,
    )
    builder = DatasetBuilder(config, settings)
    try:
        await asyncio.wait_for(builder.run(), timeout=120)
    except ValueError:
        pass  # nothing left to split once the only item failed: the error log below is what the user reads

    assert len(upstream_calls(openai_fake, "chat")) == UPSTREAM_CALLS_PER_STEP
    [error] = [json.loads(line) for line in (tmp_path / "ds/.work/errors.jsonl").read_text().splitlines()]
    assert error["stage"] == "analysis" and error["attempts"] == 1
    assert "503 upstream_unavailable" in error["error"] and "rate-limiting" in error["error"]


@pytest.mark.parametrize("service, endpoint, route", [("editor", "responses", "/v1/edit"), ("analyzer", "chat", "/v1/analyze")])
def test_the_service_tells_any_caller_not_to_retry_what_it_already_retried(gateways, openai_fake, service, endpoint, route):
    """What a non-Python caller sees: the shared error shape, Retry-After, and x-should-retry: false."""
    openai_fake.script(endpoint, RATE_LIMITED)
    image = ImagePayload.from_pil(Image.new("RGB", (SIZE, SIZE), (200, 40, 40))).model_dump(mode="json")
    other = ImagePayload.from_pil(Image.new("RGB", (SIZE, SIZE), (40, 40, 200))).model_dump(mode="json")
    body = {"image": image, "instruction": "add a pocket"} if service == "editor" else {"original": image, "generated": other}
    response = httpx.post(gateways[service].url + route, json=body, timeout=60)
    assert response.status_code == 503, response.text
    assert response.headers["x-should-retry"] == "false" and response.headers["retry-after"] == "1"
    error = ErrorResponse.model_validate(response.json()).error
    assert error.code == "upstream_unavailable" and error.retryable is False and error.retry_after == pytest.approx(0.02)
    assert len(upstream_calls(openai_fake, endpoint)) == UPSTREAM_CALLS_PER_STEP
