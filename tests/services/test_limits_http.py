"""Time budgets, work budgets and the event loop, over real ``bentoml serve`` processes."""

from __future__ import annotations

import base64
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from fashionedit.contracts import ErrorResponse
from tests.support.fixtures import openai_fake, openai_server  # noqa: F401
from tests.support.servers import BentoServer

pytestmark = pytest.mark.integration


def png_b64(size: tuple[int, int], colour=(180, 40, 40)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def error_of(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse.model_validate(response.json())


@pytest.fixture(scope="module")
def analyzer(openai_server, tmp_path_factory):  # noqa: F811
    env = {
        "FASHIONEDIT_ANALYZER_BACKEND": "openai-chat",
        "FASHIONEDIT_ANALYZER_OPENAI_BASE_URL": openai_server.base_url,
        "FASHIONEDIT_ANALYZER_OPENAI_API_KEY": openai_server.api_key,
        "FASHIONEDIT_ANALYZER_MAX_RETRIES": "0",
        "FASHIONEDIT_ANALYZER_REASK_ATTEMPTS": "4",
        "FASHIONEDIT_ANALYZER_TIMEOUT_S": "1.5",
    }
    with BentoServer(
        "fashionedit.services.analyzer.service:Analyzer", env=env, log_path=tmp_path_factory.mktemp("a") / "log"
    ) as server:
        yield server


def test_the_analyzer_stops_calling_upstream_once_the_caller_has_its_504(analyzer, openai_fake) -> None:  # noqa: F811
    openai_fake.script("chat", {"content": "no idea", "delay_s": 0.6, "times": 5})
    body = {"original": png_b64((64, 64)), "generated": png_b64((64, 64), (40, 40, 180))}
    started = time.monotonic()
    response = httpx.post(analyzer.url + "/v1/analyze", json=body, timeout=30)
    assert response.status_code == 504, response.text
    assert error_of(response).error.code == "timeout" and time.monotonic() - started < 3
    time.sleep(3.5)  # five attempts of 0.6 s would have run on for 3 s
    calls = openai_fake.requests("chat")
    assert 1 <= len(calls) <= 3, [c.get("received_at") for c in calls]


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    env = {"FASHIONEDIT_GENERATOR_TIMEOUT_S": "1", "FASHIONEDIT_GENERATOR_MAX_CONCURRENCY": "16"}
    with BentoServer(
        "fashionedit.services.generator.service:Generator", env=env, log_path=tmp_path_factory.mktemp("g") / "log"
    ) as server:
        yield server


def test_timed_out_generations_leave_no_backlog(generator) -> None:
    heavy = {"prompt": "a red coat with pockets", "width": 1024, "height": 1024, "num_images": 4}
    with httpx.Client(base_url=generator.url, timeout=30) as client, ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: client.post("/v1/generate", json=heavy).status_code, range(16)))
    assert set(statuses) <= {200, 503, 504} and 504 in statuses, statuses
    # The timed-out work was dropped: a small request right after is served, not stuck behind the backlog.
    started = time.monotonic()
    response = httpx.post(generator.url + "/v1/generate", json={"prompt": "a coat", "width": 256, "height": 256}, timeout=30)
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 2.5


@pytest.fixture(scope="module")
def editor(openai_server, tmp_path_factory):  # noqa: F811
    env = {
        "FASHIONEDIT_EDITOR_BACKEND": "openai-images",
        "FASHIONEDIT_EDITOR_OPENAI_API_KEY": openai_server.api_key,
        "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": openai_server.base_url,
        "FASHIONEDIT_EDITOR_OPENAI_MAX_REFERENCES": "15",
        "FASHIONEDIT_EDITOR_MAX_REFERENCE_PIXELS": str(4096 * 4096),
        "FASHIONEDIT_EDITOR_MAX_REFERENCE_BYTES": str(8 * 1024 * 1024),
    }
    with BentoServer(
        "fashionedit.services.editor.service:Editor", env=env, log_path=tmp_path_factory.mktemp("e") / "log"
    ) as server:
        yield server


def test_decoding_large_references_never_stalls_the_event_loop(editor, openai_fake) -> None:  # noqa: F811
    openai_fake.configure(latency_s=0.0)
    big = png_b64((4096, 4096))  # small on the wire, 48 MiB each decoded
    body = {"image": png_b64((256, 256)), "instruction": "add a pocket", "references": [big] * 15}
    done = threading.Event()
    worst = 0.0

    def probe_readyz() -> None:
        nonlocal worst
        with httpx.Client(base_url=editor.url, timeout=10) as client:
            while not done.is_set():
                started = time.monotonic()
                assert client.get("/readyz").status_code == 200
                worst = max(worst, time.monotonic() - started)
                time.sleep(0.02)

    watcher = threading.Thread(target=probe_readyz)
    watcher.start()
    try:
        response = httpx.post(editor.url + "/v1/edit", json=body, timeout=120)
    finally:
        done.set()
        watcher.join()
    assert response.status_code in (200, 422, 502), response.text
    assert worst < 0.5, f"/readyz waited {worst:.2f} s while references decoded"


@pytest.fixture(scope="module")
def scorer(tmp_path_factory):
    env = {"FASHIONEDIT_SCORER_MAX_REQUEST_PIXELS": str(8 * 1024 * 1024)}
    with BentoServer(
        "fashionedit.services.scorer.service:Scorer", env=env, log_path=tmp_path_factory.mktemp("s") / "log"
    ) as server:
        yield server


def test_the_scorer_refuses_more_work_than_its_budget_before_decoding(scorer) -> None:
    big = png_b64((2048, 2048))
    body = {"pairs": [{"generated": big, "reference": big}] * 2, "metrics": ["psnr"]}
    started = time.monotonic()
    response = httpx.post(scorer.url + "/v1/score", json=body, timeout=60)
    assert response.status_code == 413, response.text
    error = error_of(response).error
    assert error.code == "payload_too_large" and "MAX_REQUEST_PIXELS" in error.message and str(8 * 1024 * 1024) in error.message
    assert time.monotonic() - started < 2
    small = {"pairs": [{"generated": png_b64((256, 256)), "reference": png_b64((256, 256))}], "metrics": ["psnr"]}
    assert httpx.post(scorer.url + "/v1/score", json=small, timeout=60).status_code == 200
