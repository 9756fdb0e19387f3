"""Both OpenAI-protocol backends through the official openai SDK against the local OpenAI-protocol server."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from fashionedit.contracts import PAPER_ANALYZE_PROMPT, AnalyzeRequest, BoxConvention
from fashionedit.services.analyzer.geometry import smart_resize
from fashionedit.services.analyzer.serving import AnalyzerServing
from fashionedit.services.common import UpstreamError, UpstreamTimeout, UpstreamUnavailable

from .helpers import flat_pair, payload, settings_for, sha256
from .variants import IMAGE_SIZE, READABLE, Variant, flat

pytestmark = pytest.mark.integration

BACKENDS = ["openai-chat", "openai-vlm"]


@pytest.fixture(scope="module")
def big_pair():
    original = Image.new("RGB", IMAGE_SIZE, (240, 240, 240))
    ImageDraw.Draw(original).rectangle((500, 300, 1500, 1300), fill=(30, 40, 88))
    return payload(original), payload(Image.new("RGB", (512, 512), (200, 30, 40)))


@pytest.fixture(scope="module")
def table_serving(openai_server):
    # The table is written in box_2d (yx1000); the VLM backend is configured to that convention here,
    # and its own conventions are tested below.
    serving = AnalyzerServing(settings_for(openai_server, vlm_box_convention=BoxConvention.YX_1000))
    yield serving
    serving.close()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("variant", READABLE, ids=lambda v: v.name)
def test_variant_table_through_sdk(openai_fake, table_serving, big_pair, backend: str, variant: Variant) -> None:
    openai_fake.script("chat", {"content": variant.text})
    original, generated = big_pair
    response = table_serving.analyze(
        AnalyzeRequest(original=original, generated=generated, k=variant.k, backend=backend, include_raw=True)
    )
    assert len(response.differences) == len(variant.boxes)
    assert flat([d.box_2d.to_list() for d in response.differences]) == pytest.approx(flat(variant.boxes))
    assert [r.code for r in response.repairs] == variant.repairs
    if variant.descriptions is not None:
        assert [d.description for d in response.differences] == variant.descriptions
    assert response.raw_text == variant.text
    assert response.attempts == 1
    assert response.model.backend == backend
    assert len(openai_fake.requests("chat")) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_unreadable_answers_are_re_asked(openai_fake, table_serving, big_pair, backend: str) -> None:
    openai_fake.script(
        "chat",
        {"content": "Sorry, I cannot see any clothes."},
        {"refusal": "I can't help with that."},
        {"content": '{"differences": [{"description": "A", "box_2d": [100, 200, 300, 400]}]}'},
    )
    original, generated = big_pair
    response = table_serving.analyze(AnalyzeRequest(original=original, generated=generated, backend=backend))
    assert response.attempts == 3
    assert [d.box_2d.to_list() for d in response.differences] == [[100, 200, 300, 400]]
    requests = openai_fake.requests("chat")
    assert len(requests) == 3
    second = requests[1]["body"]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == "Sorry, I cannot see any clothes."
    assert "could not be read" in second[2]["content"]
    assert [m["role"] for m in requests[2]["body"]["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert response.usage is not None and response.usage.total_tokens > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_unreadable_after_bounded_attempts_is_502(openai_fake, table_serving, big_pair, backend: str) -> None:
    attempts = table_serving.settings.reask_attempts + 1
    openai_fake.script("chat", {"content": '```json\n{"differences": [', "times": attempts}, {"content": '{"differences": []}'})
    original, generated = big_pair
    with pytest.raises(UpstreamError) as info:
        table_serving.analyze(AnalyzeRequest(original=original, generated=generated, backend=backend))
    assert info.value.status == 502
    assert f"{attempts} attempt" in info.value.message and "unterminated code block" in info.value.message
    assert len(openai_fake.requests("chat")) == attempts  # bounded: the next scripted reply was never asked for


def test_paper_request_shape(openai_fake, table_serving) -> None:
    original_image, generated_image = flat_pair((96, 128))
    original, generated = payload(original_image), payload(generated_image)
    response = table_serving.analyze(AnalyzeRequest(original=original, generated=generated, backend="openai-chat"))
    assert len(response.differences) == 3  # the server's computed answer
    (logged,) = openai_fake.requests("chat")
    assert logged["model"] == "gpt-4.1-mini"
    assert logged["prompt"] == PAPER_ANALYZE_PROMPT
    content = logged["body"]["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url", "image_url"]
    assert [image["sha256"] for image in logged["images"]] == [sha256(original), sha256(generated)]  # original first
    assert logged["options"] == {"response_format": {"type": "json_object"}, "temperature": 0.0}


def test_structured_outputs_mode(openai_server, openai_fake) -> None:
    serving = AnalyzerServing(settings_for(openai_server, openai_response_format="json_schema"))
    original_image, generated_image = flat_pair()
    response = serving.analyze(AnalyzeRequest(original=payload(original_image), generated=payload(generated_image), k=2))
    assert len(response.differences) == 2
    (logged,) = openai_fake.requests("chat")
    format_sent = logged["options"]["response_format"]
    assert format_sent["type"] == "json_schema" and format_sent["json_schema"]["strict"] is True
    assert "differences" in format_sent["json_schema"]["schema"]["properties"]


def test_k_other_than_three_changes_only_the_number_word(openai_fake, table_serving) -> None:
    original_image, generated_image = flat_pair()
    table_serving.analyze(
        AnalyzeRequest(original=payload(original_image), generated=payload(generated_image), k=2, backend="openai-chat")
    )
    (logged,) = openai_fake.requests("chat")
    assert logged["prompt"] == PAPER_ANALYZE_PROMPT.replace("the three detailed", "the two detailed")


@pytest.mark.parametrize(
    "server_convention,convention",
    [("qwen2.5-vl", BoxConvention.XY_PIXELS), ("qwen3-vl", BoxConvention.XY_1000)],
)
def test_vlm_conventions_are_converted_to_box_2d(
    openai_server, openai_fake, server_convention: str, convention: BoxConvention
) -> None:
    original_image, generated_image = flat_pair((750, 1101))  # DeepFashion-MultiModal's size
    request = AnalyzeRequest(original=payload(original_image), generated=payload(generated_image), backend="openai-vlm")
    serving = AnalyzerServing(settings_for(openai_server, vlm_box_convention=convention))
    openai_fake.script("chat", {"box_convention": "box_2d"}, {"box_convention": server_convention})
    reference = serving.analyze(request.model_copy(update={"backend": "openai-chat"}))  # the server's answer in box_2d
    converted = serving.analyze(request)
    # Qwen2.5-VL answers in whole pixels of a 756x1092 input: one pixel is under 1.4 units of 1000.
    tolerance = 1000 / min(smart_resize(750, 1101)) + 1e-6 if convention is BoxConvention.XY_PIXELS else 1e-6
    assert len(converted.differences) == len(reference.differences) == 3
    assert flat([d.box_2d.to_list() for d in converted.differences]) == pytest.approx(
        flat([d.box_2d.to_list() for d in reference.differences]), abs=tolerance
    )
    logged = openai_fake.requests("chat")[-1]
    assert [part["type"] for part in logged["body"]["messages"][0]["content"]] == ["image_url", "image_url", "text"]
    assert ("pixel coordinates" in logged["prompt"]) == (convention is BoxConvention.XY_PIXELS)


def test_rate_limit_is_retried_by_the_sdk(openai_server, openai_fake) -> None:
    serving = AnalyzerServing(settings_for(openai_server, max_retries=2))
    openai_fake.script("chat", {"status": 429, "headers": {"retry-after-ms": "10"}}, {})
    original_image, generated_image = flat_pair()
    response = serving.analyze(AnalyzeRequest(original=payload(original_image), generated=payload(generated_image)))
    assert len(response.differences) == 3
    assert [r["status"] for r in openai_fake.requests("chat")] == [429, 200]


@pytest.mark.parametrize(
    "reply,error,status",
    [
        ({"status": 429, "headers": {"Retry-After": "7"}}, UpstreamUnavailable, 503),
        ({"status": 500}, UpstreamError, 502),
        ({"status": 503}, UpstreamUnavailable, 503),
        ({"status": 401}, UpstreamError, 502),
        ({"delay_s": 2.0}, UpstreamTimeout, 504),
    ],
    ids=["429", "500", "503", "401", "timeout"],
)
def test_upstream_faults_map_to_clear_errors(openai_server, openai_fake, reply, error, status) -> None:
    serving = AnalyzerServing(settings_for(openai_server, max_retries=0, request_timeout_s=0.5))
    openai_fake.script("chat", reply)
    original_image, generated_image = flat_pair()
    with pytest.raises(error) as info:
        serving.analyze(AnalyzeRequest(original=payload(original_image), generated=payload(generated_image)))
    assert info.value.status == status
    assert openai_server.api_key not in info.value.message
    if reply.get("status") == 429:
        assert info.value.retry_after == 7.0
