"""The generator through a real ``bentoml serve`` process: readiness, determinism, bad input, saturation.

Two servers for the whole module: ``tiny`` (random-weight SD3 through diffusers; its start-up is
held at the cache's build lock so /readyz can be seen false, then true) and ``flats`` (the offline
default, admitting one request at a time so saturation is easy to reach).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from filelock import FileLock

from fashionedit.contracts import ErrorResponse, GenerateResponse, ServiceInfo
from fashionedit.services.generator.backends.tiny import build_lock_path, tiny_pipeline_dir
from tests.support.servers import BentoServer

pytestmark = pytest.mark.integration

TARGET = "fashionedit.services.generator.service:Generator"
PROMPT = "The lady wears a long-sleeve white blazer with a lapel neckline and long trousers."
SMALL = {"prompt": PROMPT, "width": 64, "height": 64, "steps": 4}


@pytest.fixture(scope="module")
def tiny_loading(tmp_path_factory: pytest.TempPathFactory, tiny_sd3_dir: Path):
    cache = tmp_path_factory.mktemp("http-cache")
    shutil.copytree(tiny_sd3_dir, tiny_pipeline_dir(cache, "sd3-tiny"))
    lock = FileLock(str(build_lock_path(tiny_pipeline_dir(cache, "sd3-tiny"))))
    lock.acquire()  # as if another worker were still building the pipeline
    env = {
        "FASHIONEDIT_GENERATOR_BACKEND": "tiny",
        "FASHIONEDIT_GENERATOR_CACHE_DIR": str(cache),
        "FASHIONEDIT_GENERATOR_DEVICE": "cpu",
    }
    server = BentoServer(TARGET, env=env, health_path="/livez", log_path=cache / "server.log", startup_timeout=180)
    try:
        server.start()
        yield server, lock
    finally:
        if lock.is_locked:
            lock.release()
        server.stop()


@pytest.fixture(scope="module")
def tiny(tiny_loading) -> BentoServer:
    server, lock = tiny_loading
    if lock.is_locked:
        lock.release()
    server.wait_healthy("/readyz", timeout=300)
    return server


@pytest.fixture(scope="module")
def flats(tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("flats-server") / "server.log"
    env = {"FASHIONEDIT_GENERATOR_MAX_CONCURRENCY": "1"}  # backend left to its default: flats
    with BentoServer(TARGET, env=env, log_path=log, startup_timeout=180) as server:
        yield server


def post(server: BentoServer, route: str, body: object, timeout: float = 120) -> httpx.Response:
    return httpx.post(server.url + route, json=body, timeout=timeout)


def error_of(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse.model_validate(response.json())


# -- readiness (runs first: the tiny server is still held at the lock) ------------------------------
def test_readyz_is_false_until_the_model_is_loaded_then_true(tiny_loading) -> None:
    server, lock = tiny_loading
    assert httpx.get(server.url + "/livez").status_code == 200
    assert httpx.get(server.url + "/readyz").status_code == 503
    early = post(server, "/v1/generate", {**SMALL, "seed": 1})
    assert early.status_code == 503
    assert error_of(early).error.code == "not_ready" and "loading" in error_of(early).error.message
    assert early.headers.get("retry-after") is not None
    info = ServiceInfo.model_validate(post(server, "/v1/info", {}).json())
    assert not info.ready and info.model is None

    lock.release()
    server.wait_healthy("/readyz", timeout=300)
    info = ServiceInfo.model_validate(post(server, "/v1/info", {}).json())
    assert info.ready and info.model is not None and info.model.random_weights


# -- tiny --------------------------------------------------------------------------------------
def test_tiny_same_seed_same_image_over_http(tiny: BentoServer) -> None:
    first = GenerateResponse.model_validate(post(tiny, "/v1/generate", {**SMALL, "seed": 9, "num_images": 2}).json())
    again = GenerateResponse.model_validate(post(tiny, "/v1/generate", {**SMALL, "seed": 9, "num_images": 2}).json())
    assert [image.seed for image in first.images] == [9, 10]
    assert [image.image.to_bytes() for image in first.images] == [image.image.to_bytes() for image in again.images]
    assert first.images[0].image.size == (64, 64)
    assert first.model.backend == "tiny" and first.model.random_weights


def test_tiny_reports_what_clip_truncated(tiny: BentoServer) -> None:
    response = GenerateResponse.model_validate(post(tiny, "/v1/generate", {**SMALL, "prompt": PROMPT * 6, "steps": 1}).json())
    assert response.prompt_truncation is not None and response.prompt_truncation.max_tokens == 77
    assert (PROMPT * 6).endswith(response.prompt_truncation.truncated_text)


def test_tiny_refuses_a_size_beyond_its_transformer(tiny: BentoServer) -> None:
    response = post(tiny, "/v1/generate", {**SMALL, "width": 512})
    assert response.status_code == 422
    assert "at most 384" in error_of(response).error.message


# -- flats: the offline default ------------------------------------------------------------------
def test_flats_defaults_follow_the_paper(flats: BentoServer) -> None:
    response = GenerateResponse.model_validate(post(flats, "/v1/generate", {"prompt": PROMPT}).json())
    assert response.images[0].image.size == (1024, 1024)  # the paper's default size
    assert response.model.backend == "flats" and response.model.offline
    drawn = response.images[0].seed
    replay = GenerateResponse.model_validate(post(flats, "/v1/generate", {"prompt": PROMPT, "seed": drawn}).json())
    assert replay.images[0].image.to_bytes() == response.images[0].image.to_bytes()


BAD_INPUTS = [
    ({"prompt": ""}, "prompt"),
    ({"prompt": "   \n\t"}, "prompt"),
    ({"width": 100}, "width"),  # not a multiple of 16
    ({"height": 48}, "height"),  # below 64
    ({"width": 4096}, "width"),  # above 2048
    ({"steps": 0}, "steps"),
    ({"steps": 151}, "steps"),
    ({"guidance": -0.5}, "guidance"),
    ({"guidance": 31}, "guidance"),
    ({"num_images": 0}, "num_images"),
    ({"num_images": 9}, "num_images"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**32}, "seed"),
    ({"negative_prompt": "x" * 10_001}, "negative_prompt"),
    ({"sampler": "euler"}, "sampler"),  # unknown fields are refused, so typos surface
]


@pytest.mark.parametrize(("change", "field"), BAD_INPUTS, ids=[f"{field}={str(c.get(field, c))[:12]}" for c, field in BAD_INPUTS])
def test_bad_input_gets_422_naming_the_field(flats: BentoServer, change: dict, field: str) -> None:
    response = post(flats, "/v1/generate", {**SMALL, **change})
    assert response.status_code == 422, response.text
    body = error_of(response).error
    assert body.code == "invalid_request" and field in body.message
    assert any(field in [str(part) for part in detail.loc] for detail in body.details)


def test_a_missing_prompt_and_a_body_that_is_not_json_get_422(flats: BentoServer) -> None:
    missing = post(flats, "/v1/generate", {"width": 64, "height": 64})
    assert missing.status_code == 422 and "prompt" in error_of(missing).error.message
    garbage = httpx.post(
        flats.url + "/v1/generate", content=b"{not json", headers={"content-type": "application/json"}, timeout=30
    )
    assert 400 <= garbage.status_code < 500
    assert error_of(garbage).error.code == "invalid_request"


def test_the_multiple_of_16_message_suggests_valid_sizes(flats: BentoServer) -> None:
    body = error_of(post(flats, "/v1/generate", {**SMALL, "width": 1000})).error
    assert "992" in body.message and "1008" in body.message


def test_saturation_gets_503_overloaded_then_recovers(flats: BentoServer) -> None:
    slow_body = {"prompt": PROMPT, "width": 2048, "height": 2048, "num_images": 8, "seed": 1}
    rejected = None
    for _ in range(3):  # a probe may win the race and take the only slot first: then the slow call is the one refused
        slow: dict[str, httpx.Response] = {}
        worker = threading.Thread(
            target=lambda slow=slow: slow.setdefault("response", post(flats, "/v1/generate", slow_body, timeout=300))
        )
        worker.start()
        time.sleep(0.2)  # let the slow request be admitted before probing
        deadline = time.monotonic() + 60
        while worker.is_alive() and time.monotonic() < deadline:
            response = post(flats, "/v1/generate", {**SMALL, "seed": 2})
            if response.status_code == 503:
                rejected = response
                break
            time.sleep(0.05)
        worker.join(300)
        if rejected is not None:
            break
    assert rejected is not None, "no request was refused while the server was at its limit of 1"
    body = error_of(rejected).error
    assert body.code == "overloaded" and rejected.headers.get("retry-after") == "1"
    assert slow["response"].status_code == 200 and len(slow["response"].json()["images"]) == 8
    assert post(flats, "/v1/generate", {**SMALL, "seed": 2}).status_code == 200  # capacity is back
