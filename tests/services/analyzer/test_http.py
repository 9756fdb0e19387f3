"""The analyzer through a real ``bentoml serve`` process (openai-chat by default, classical per request)."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
from PIL import Image

from fashionedit.contracts import AnalyzeResponse, ErrorResponse, ServiceInfo
from tests.support.servers import BentoServer

from .helpers import assert_crop_shows_box, flat_pair, payload
from .synthetic import garment_pair

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def analyzer(openai_server, tmp_path_factory):
    env = {
        "FASHIONEDIT_ANALYZER_BACKEND": "openai-chat",
        "FASHIONEDIT_ANALYZER_EXTRA_BACKENDS": '["classical"]',
        "FASHIONEDIT_ANALYZER_OPENAI_BASE_URL": openai_server.base_url,
        "FASHIONEDIT_ANALYZER_OPENAI_API_KEY": openai_server.api_key,
        "FASHIONEDIT_ANALYZER_MAX_RETRIES": "0",
    }
    log_path = tmp_path_factory.mktemp("analyzer") / "bentoml.log"
    with BentoServer("fashionedit.services.analyzer.service:Analyzer", env=env, log_path=log_path) as server:
        yield server


def body(original, generated, **extra):
    return {"original": payload(original).root, "generated": payload(generated).root, **extra}


def test_classical_over_http_with_exact_crops(analyzer) -> None:
    original, generated, planted = garment_pair(2, n=2)
    response = httpx.post(f"{analyzer.url}/v1/analyze", json=body(original, generated, backend="classical"), timeout=60)
    assert response.status_code == 200, response.text
    result = AnalyzeResponse.model_validate(response.json())
    assert result.model.backend == "classical" and result.model.offline
    for truth in planted:
        assert max(d.box_2d.iou(truth.box) for d in result.differences) >= 0.5
    for difference in result.differences:
        assert_crop_shows_box(original, difference)


def test_openai_chat_over_http_forwards_request_id(analyzer, openai_fake) -> None:
    original, generated = flat_pair()
    openai_fake.script("chat", {"content": "[{'description': 'Red pocket', 'bbox_2d': [300, 200, 100, 400]}]"})
    response = httpx.post(
        f"{analyzer.url}/v1/analyze",
        json=body(original, generated, include_raw=True),
        headers={"X-Request-ID": "req-analyzer-1"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    result = AnalyzeResponse.model_validate(response.json())
    assert [d.box_2d.to_list() for d in result.differences] == [[100, 200, 300, 400]]
    assert {r.code.value for r in result.repairs} >= {"parsed_leniently", "renamed_key", "reordered"}
    assert result.raw_text.startswith("[{'description'")
    (logged,) = openai_fake.requests("chat")
    assert logged["headers"].get("x-request-id") == "req-analyzer-1"


def test_unreadable_answers_end_in_502(analyzer, openai_fake) -> None:
    original, generated = flat_pair()
    openai_fake.script("chat", {"content": "no idea", "times": 3})
    response = httpx.post(f"{analyzer.url}/v1/analyze", json=body(original, generated), timeout=60)
    assert response.status_code == 502
    error = ErrorResponse.model_validate(response.json()).error
    assert error.code == "upstream_error" and "3 attempt" in error.message
    assert len(openai_fake.requests("chat")) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"k": 0},
        {"k": 11},
        {"original": "bm90IGFuIGltYWdl"},  # "not an image"
        {"generated": base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 40).decode()},
        {"backend": "openai-vlm"},
    ],
    ids=["k0", "k11", "not-an-image", "broken-png", "backend-not-enabled"],
)
def test_bad_input_is_422(analyzer, change) -> None:
    original, generated = flat_pair()
    response = httpx.post(f"{analyzer.url}/v1/analyze", json={**body(original, generated), **change}, timeout=60)
    assert response.status_code == 422, response.text
    assert ErrorResponse.model_validate(response.json()).error.code == "invalid_request"


def test_info(analyzer) -> None:
    response = httpx.post(f"{analyzer.url}/v1/info", json={}, timeout=30)
    assert response.status_code == 200, response.text
    info = ServiceInfo.model_validate(response.json())
    assert info.ready and info.model.backend == "openai-chat" and info.backends == ["classical", "openai-chat"]
    assert "sk-" not in response.text


@pytest.mark.parametrize(
    "reply,status",
    [
        ({"content": "no idea", "times": 3}, 502),
        ({"refusal": "I will not", "times": 3}, 502),
        ({"status": 400}, 502),
        ({"status": 429}, 503),
        ({"status": 503}, 503),
        ({"status": 500}, 502),
    ],
    ids=["content", "refusal", "400", "429", "503", "500"],
)
def test_an_echoed_key_never_reaches_the_caller_or_the_log(analyzer, openai_fake, reply, status) -> None:
    original, generated = flat_pair()
    openai_fake.script("chat", {**reply, "echo_key": True})
    response = httpx.post(f"{analyzer.url}/v1/analyze", json=body(original, generated, include_raw=True), timeout=60)
    key = openai_fake.api_key
    assert response.status_code == status, response.text
    assert key not in response.text and key[-4:] + "]" not in response.text
    assert key not in analyzer.log_tail(10**7)


def test_an_echoed_key_in_a_good_answer_is_scrubbed_from_every_field(analyzer, openai_fake) -> None:
    original, generated = flat_pair()
    openai_fake.script("chat", {"echo_key": True})
    response = httpx.post(f"{analyzer.url}/v1/analyze", json=body(original, generated, include_raw=True), timeout=60)
    assert response.status_code == 200, response.text
    result = AnalyzeResponse.model_validate(response.json())
    assert openai_fake.api_key not in response.text
    assert "<redacted>" in result.raw_text and all("<redacted>" in d.description for d in result.differences)


@pytest.mark.parametrize(
    "reply",
    [
        {"body": "{not json", "headers": {"content-type": "application/json"}},
        {"body": "<html><body>502 Bad Gateway</body></html>", "headers": {"content-type": "text/html"}},
        {"json": {"choices": "none"}},
        {"json": {"choices": [{"message": "hi"}]}},
        {"json": [1, 2]},
    ],
    ids=["invalid-json", "html", "wrong-shape", "message-not-object", "a-list"],
)
def test_an_unreadable_200_is_a_502(analyzer, openai_fake, reply) -> None:
    original, generated = flat_pair()
    openai_fake.script("chat", reply)
    response = httpx.post(f"{analyzer.url}/v1/analyze", json=body(original, generated), timeout=60)
    assert response.status_code == 502, response.text
    assert ErrorResponse.model_validate(response.json()).error.code == "upstream_error"


def test_the_docs_curl_example_works_as_written(analyzer, tmp_path) -> None:
    """docs/analyzer.md's curl example, run as a person would copy it, at a size that overflows an inlined body."""
    import re
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    doc = (Path(__file__).resolve().parents[3] / "docs" / "analyzer.md").read_text()
    block = re.search(r"```bash\n(.*?)```", doc, re.S).group(1)
    commands = [line for line in block.splitlines() if not line.startswith("FASHIONEDIT_ANALYZER_BACKEND=")]
    script = "\n".join(commands).replace("localhost:3003", analyzer.url.removeprefix("http://"))
    original, generated = flat_pair((512, 768))
    noise = Image.effect_noise((512, 768), 64).convert("RGB")  # hard to compress, as photos are
    Image.blend(original, noise, 0.1).save(tmp_path / "original.png")
    Image.blend(generated, noise, 0.1).save(tmp_path / "draft.png")
    assert (tmp_path / "original.png").stat().st_size > 2**17  # over Linux's 128 KiB limit for one argument
    env = {**os.environ, "FASHIONEDIT_ANALYZER_BACKEND": "classical"}
    done = subprocess.run(
        ["sh", "-c", script.replace('"k": 3}', '"k": 3, "backend": "classical"}')],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    parsed = AnalyzeResponse.model_validate_json(done.stdout)
    assert parsed.differences and parsed.model.backend == "classical"
