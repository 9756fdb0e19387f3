"""The local OpenAI-protocol server, exercised only through the official ``openai`` SDK.

Each endpoint the product uses, each scripted reply field and each injected fault is checked
end to end: real process, real HTTP, the SDK's own parsing, retries and timeouts.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time

import numpy as np
import openai
import pytest
from openai.types.responses import Response
from PIL import Image

from tests.support.openai_server import OpenAIProtocolServer
from tests.support.openai_server.images import qwen25_input_size

pytestmark = pytest.mark.integration

PAPER_PROMPT = (
    "Detect the three detailed differences of the clothes between the two images and return JSON style. For each result, "
    "the discription should only contain the difference of the first image, and give the bounding box of the box_2d should be "
    "[ymin, xmin, ymax, xmax] normalized to 0-1000."
)


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def solid(colour: tuple[int, ...], width: int = 64, height: int = 64) -> np.ndarray:
    return np.broadcast_to(np.array(colour, np.uint8), (height, width, len(colour))).copy()


def data_url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def decode_b64_png(b64: str) -> np.ndarray:
    raw = base64.b64decode(b64)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


BLUE = png_bytes(solid((30, 60, 200)))
STRIPES = png_bytes(np.where((np.arange(64) // 8 % 2)[:, None, None] == 0, [200, 30, 30], [240, 240, 240]) * np.ones((64, 64, 3)))
REFERENCE = png_bytes(solid((40, 160, 60), 32, 24))


def right_half_mask(width: int = 64, height: int = 64) -> bytes:
    """OpenAI masks: alpha 0 marks the area to edit; here the right half."""
    mask = solid((0, 0, 0, 255), width, height)
    mask[:, width // 2 :, 3] = 0
    return png_bytes(mask)


def edit_request(client: openai.OpenAI, prompt: str, images: list[bytes], **tool: object) -> Response:
    content: list[dict[str, object]] = [{"type": "input_text", "text": prompt}]
    content += [{"type": "input_image", "image_url": data_url(raw)} for raw in images]
    return client.responses.create(
        model="gpt-4.1-mini",
        input=[{"role": "user", "content": content}],  # type: ignore[list-item]
        tools=[{"type": "image_generation", **tool}],  # type: ignore[list-item]
    )


def image_call(response: Response):
    calls = [item for item in response.output if item.type == "image_generation_call"]
    assert len(calls) == 1
    return calls[0]


def chat_request(
    client: openai.OpenAI, first: bytes, second: bytes, response_format: dict | None = None, prompt: str = PAPER_PROMPT
):
    return client.chat.completions.create(
        model="gpt-4.1-mini",
        temperature=0,
        response_format=response_format or {"type": "json_object"},  # type: ignore[arg-type]
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": prompt},
                    {"type": "image_url", "image_url": {"url": data_url(first)}},
                    {"type": "image_url", "image_url": {"url": data_url(second)}},
                ],
            }
        ],
    )


# -- /v1/responses ------------------------------------------------------------------------------


def test_responses_one_image_is_parsed_by_the_sdk(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    prompt = "Please edit the image based on the following description:The collar is white."
    response = edit_request(client, prompt, [BLUE], quality="low")

    assert isinstance(response, Response)
    call = image_call(response)
    assert call.status == "completed" and call.id.startswith("ig_")
    out = decode_b64_png(call.result)
    assert out.shape == (64, 64, 3)  # no size given: the first image's size
    assert not np.array_equal(out, np.asarray(Image.open(io.BytesIO(BLUE)).convert("RGB")))  # it was edited
    messages = [item for item in response.output if item.type == "message"]
    assert messages and messages[0].content[0].type == "output_text"
    assert (
        response.usage is not None and response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    )

    (logged,) = openai_fake.requests("responses")
    assert logged["prompt"] == prompt
    assert [i["sha256"] for i in logged["images"]] == [sha256(BLUE)]
    assert logged["options"] == {"type": "image_generation", "quality": "low"}
    assert logged["model"] == "gpt-4.1-mini" and logged["auth_present"] and logged["status"] == 200


def test_responses_two_images_and_mask_edit_only_the_masked_region(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    prompt = "Please edit the first image based on the following description and the second reference image:Green pocket."
    mask = right_half_mask()
    response = edit_request(
        client,
        prompt,
        [STRIPES, REFERENCE],
        size="1024x1024",
        quality="high",
        input_fidelity="high",
        input_image_mask={"image_url": data_url(mask)},
    )
    call = image_call(response)
    assert call.size == "1024x1024"
    out = decode_b64_png(call.result)
    assert out.shape == (1024, 1024, 3)

    # Same request at the input's size: the unmasked left half is untouched, the right half holds the tinted reference.
    small = decode_b64_png(
        image_call(edit_request(client, prompt, [STRIPES, REFERENCE], input_image_mask={"image_url": data_url(mask)})).result
    )
    base = np.asarray(Image.open(io.BytesIO(STRIPES)).convert("RGB"))
    assert np.array_equal(small[:, :32], base[:, :32])
    right = small[:, 32:].reshape(-1, 3).astype(float).mean(0)
    assert right[1] > right[0] and right[1] > right[2], "the green reference should dominate the edited half"

    first, _same_at_input_size = openai_fake.requests("responses")
    assert [i["sha256"] for i in first["images"]] == [sha256(STRIPES), sha256(REFERENCE)]
    assert first["images"][1]["width"] == 32 and first["images"][1]["height"] == 24
    assert first["mask"]["sha256"] == sha256(mask)
    assert first["options"]["input_fidelity"] == "high" and first["options"]["size"] == "1024x1024"
    assert first["options"]["input_image_mask"]["image_url"].startswith("<data-url image/png")
    assert "base64," not in json.dumps(first), "data URLs are summarised in the log, not stored"


def test_responses_are_deterministic_and_depend_on_inputs(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()

    def result(prompt: str, images: list[bytes]) -> str:
        return image_call(edit_request(client, prompt, images)).result

    a = result("Make the sleeves longer.", [STRIPES, REFERENCE])
    assert result("Make the sleeves longer.", [STRIPES, REFERENCE]) == a
    assert result("Make the sleeves shorter.", [STRIPES, REFERENCE]) != a
    assert result("Make the sleeves longer.", [STRIPES, png_bytes(solid((240, 150, 190), 32, 24))]) != a
    assert result("Make the sleeves longer.", [BLUE, REFERENCE]) != a


def test_responses_scripted_no_image_refusal_and_failed_call(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    openai_fake.script(
        "responses",
        {"no_image": True, "text": "I can only describe the change."},
        {"refusal": "I can't help with that."},
        {"image_status": "failed"},
    )
    only_text = edit_request(client, "edit", [BLUE])
    assert [item.type for item in only_text.output] == ["message"]
    assert only_text.output_text == "I can only describe the change."

    refused = edit_request(client, "edit", [BLUE])
    assert [item.type for item in refused.output] == ["message"]
    assert refused.output[0].content[0].type == "refusal" and refused.output[0].content[0].refusal == "I can't help with that."

    failed = image_call(edit_request(client, "edit", [BLUE]))
    assert failed.status == "failed" and failed.result is None

    assert image_call(edit_request(client, "edit", [BLUE])).status == "completed"  # script used up
    assert [r["scripted"] is not None for r in openai_fake.requests()] == [True, True, True, False]


def test_responses_reject_bad_input_with_openai_errors(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            model="gpt-4.1-mini",
            input=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "x"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                    ],
                }
            ],  # type: ignore[list-item]
            tools=[{"type": "image_generation"}],
        )
    assert info.value.code == "invalid_image" and info.value.param == "input[0].content[1].image_url"
    (logged,) = openai_fake.requests("responses")
    assert logged["status"] == 400 and logged["model"] == "gpt-4.1-mini" and "could not decode" in logged["error"]
    assert logged["body"]["input"][0]["content"][0]["text"] == "x"  # a rejected request is still logged
    with pytest.raises(openai.BadRequestError):
        edit_request(client, "x", [BLUE], size="huge")


# -- /v1/images/edits ---------------------------------------------------------------------------


def test_images_edit_sends_several_image_parts_and_a_mask(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    third = png_bytes(solid((235, 220, 50)))
    mask = right_half_mask()
    result = client.images.edit(
        model="gpt-image-1",
        image=[("design.png", STRIPES, "image/png"), ("ref.png", REFERENCE, "image/png"), ("extra.png", third, "image/png")],
        prompt="Put the green reference on the right.",
        mask=("mask.png", mask, "image/png"),
        size="1024x1024",
        quality="low",
        input_fidelity="high",
        n=2,
    )
    assert result.data is not None and len(result.data) == 2
    first, second = (decode_b64_png(d.b64_json) for d in result.data)
    assert first.shape == (1024, 1024, 3) and not np.array_equal(first, second)  # n variants differ
    assert result.usage is not None and result.usage.total_tokens > 0 and result.size == "1024x1024"

    (logged,) = openai_fake.requests("images")
    assert [(f["field"], f["filename"]) for f in logged["files"]] == [
        ("image[]", "design.png"),
        ("image[]", "ref.png"),
        ("image[]", "extra.png"),
        ("mask", "mask.png"),
    ]
    assert [i["sha256"] for i in logged["images"]] == [sha256(STRIPES), sha256(REFERENCE), sha256(third)]
    assert logged["mask"]["sha256"] == sha256(mask) and logged["mask"]["content_type"] == "image/png"
    assert logged["prompt"] == "Put the green reference on the right."
    assert logged["form"]["input_fidelity"] == "high" and logged["form"]["n"] == "2" and logged["form"]["model"] == "gpt-image-1"


def test_images_edit_is_deterministic_and_input_dependent(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()

    def edit(prompt: str, images: list[bytes]) -> str:
        data = client.images.edit(
            model="gpt-image-1", image=[(f"{i}.png", raw, "image/png") for i, raw in enumerate(images)], prompt=prompt
        ).data
        assert data is not None
        return data[0].b64_json or ""

    a = edit("Shorter hem.", [STRIPES, REFERENCE])
    assert decode_b64_png(a).shape == (64, 64, 3)  # no size: the first image's size
    assert edit("Shorter hem.", [STRIPES, REFERENCE]) == a
    assert edit("Longer hem.", [STRIPES, REFERENCE]) != a
    assert edit("Shorter hem.", [STRIPES]) != a
    assert openai_fake.requests("images")[-1]["files"][0]["field"] == "image[]"  # a list, even of one, goes as `image[]`
    single = client.images.edit(model="gpt-image-1", image=("design.png", STRIPES, "image/png"), prompt="Shorter hem.").data
    assert single is not None and single[0].b64_json == edit("Shorter hem.", [STRIPES])
    assert openai_fake.requests("images")[-2]["files"][0]["field"] == "image"  # a single file goes as `image`


def test_images_edit_scripted_no_image_and_bad_mask(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    openai_fake.script("images", {"no_image": True})
    empty = client.images.edit(model="gpt-image-1", image=[("a.png", BLUE, "image/png")], prompt="x")
    assert empty.data == []
    with pytest.raises(openai.BadRequestError) as info:
        client.images.edit(
            model="gpt-image-1",
            image=[("a.png", BLUE, "image/png")],
            prompt="x",
            mask=("m.png", right_half_mask(32, 32), "image/png"),
        )
    assert info.value.param == "mask" and "size" in info.value.message


# -- /v1/chat/completions -----------------------------------------------------------------------


def differing_pair() -> tuple[bytes, bytes]:
    """Image 1 has a red patch in rows 40-56, cols 8-24 that image 2 lacks."""
    original = solid((240, 240, 240))
    original[40:56, 8:24] = (200, 30, 30)
    generated = solid((240, 240, 240))
    generated[0:4, 56:64] = (230, 230, 230)  # a faint change elsewhere
    return png_bytes(original), png_bytes(generated)


def test_chat_json_object_finds_the_real_difference(openai_fake: OpenAIProtocolServer) -> None:
    original, generated = differing_pair()
    completion = chat_request(openai_fake.client(), original, generated)
    answer = json.loads(completion.choices[0].message.content or "")
    differences = answer["differences"]
    assert len(differences) == 3
    ymin, xmin, ymax, xmax = differences[0]["box_2d"]
    assert 0 <= ymin < ymax <= 1000 and 0 <= xmin < xmax <= 1000
    assert 625 <= ymin and ymax <= 875 and 125 <= xmin and xmax <= 375  # inside the red patch's rows 40-56, cols 8-24
    assert "red" in differences[0]["description"]
    assert completion.usage is not None and completion.choices[0].finish_reason == "stop"

    (logged,) = openai_fake.requests("chat")
    assert logged["prompt"] == PAPER_PROMPT
    assert [i["sha256"] for i in logged["images"]] == [sha256(original), sha256(generated)]
    assert logged["options"] == {"response_format": {"type": "json_object"}, "temperature": 0}


def test_chat_is_deterministic_and_input_dependent(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    original, generated = differing_pair()
    first = chat_request(client, original, generated).choices[0].message.content
    assert chat_request(client, original, generated).choices[0].message.content == first
    assert chat_request(client, STRIPES, generated).choices[0].message.content != first
    swapped = json.loads(chat_request(client, generated, original).choices[0].message.content or "")
    assert "red" not in swapped["differences"][0]["description"]  # descriptions name image 1's colour


def test_chat_json_schema(openai_fake: OpenAIProtocolServer) -> None:
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "clothes_differences",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "description": {"type": "string"},
                                "box_2d": {"type": "array", "items": {"type": "number"}},
                            },
                            "required": ["description", "box_2d"],
                            "additionalProperties": False,
                        },
                    }
                },
                "required": ["items"],
                "additionalProperties": False,
            },
        },
    }
    original, generated = differing_pair()
    answer = json.loads(chat_request(openai_fake.client(), original, generated, schema).choices[0].message.content or "")
    assert list(answer) == ["items"] and len(answer["items"]) == 3  # the schema's own array property
    assert openai_fake.requests("chat")[0]["options"]["response_format"]["json_schema"]["name"] == "clothes_differences"


def test_chat_parse_with_a_pydantic_response_format(openai_fake: OpenAIProtocolServer) -> None:
    from pydantic import BaseModel

    class Difference(BaseModel):
        description: str
        box_2d: list[float]

    class Differences(BaseModel):
        differences: list[Difference]

    original, generated = differing_pair()
    completion = openai_fake.client().chat.completions.parse(
        model="gpt-4.1-mini",
        temperature=0,
        response_format=Differences,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": PAPER_PROMPT},
                    {"type": "image_url", "image_url": {"url": data_url(original)}},
                    {"type": "image_url", "image_url": {"url": data_url(generated)}},
                ],
            }
        ],
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Differences) and len(parsed.differences) == 3
    assert openai_fake.requests("chat")[0]["options"]["response_format"]["type"] == "json_schema"


def test_chat_json_object_requires_the_word_json(openai_fake: OpenAIProtocolServer) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        chat_request(openai_fake.client(), BLUE, STRIPES, prompt="Find three differences.")
    assert "json" in info.value.message and info.value.param == "messages"


@pytest.mark.parametrize(
    "content",
    [
        '{"differences": [{"description": "red collar", "box_2d": [100, 200, 300',  # malformed / truncated
        '```json\n{"differences": [{"description": "red collar", "box_2d": [100, 200, 300, 400]}]}\n```',
        "{'differences': [{'description': 'red collar', 'box_2d': (100, 200, 300, 400)}]}",  # Python literal
        '[{"description": "red collar", "bbox": [400, 300, 200, 100]}]',  # bare list, other key, reversed corners
        '{"differences": [{"description": "a", "box": [0, 0, 0, 0]}, {"description": "b", "box_2d": [-5, 10, 1200, 50]}]}',
    ],
)
def test_chat_scripted_content_is_returned_verbatim(openai_fake: OpenAIProtocolServer, content: str) -> None:
    openai_fake.script("chat", {"content": content})
    assert chat_request(openai_fake.client(), BLUE, STRIPES).choices[0].message.content == content


def test_chat_scripted_wrappers_and_counts(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    original, generated = differing_pair()
    openai_fake.script(
        "chat", {"wrap": "fenced"}, {"wrap": "python", "k": 1}, {"bare_list": True, "k": 5}, {"refusal": "I can't compare these."}
    )

    fenced = chat_request(client, original, generated).choices[0].message.content or ""
    assert fenced.startswith("Here are the differences:\n```json\n") and fenced.endswith("\n```")
    assert len(json.loads(fenced.split("```json\n")[1].split("\n```")[0])["differences"]) == 3

    import ast

    python_literal = chat_request(client, original, generated).choices[0].message.content or ""
    with pytest.raises(json.JSONDecodeError):
        json.loads(python_literal)
    assert len(ast.literal_eval(python_literal)["differences"]) == 1

    bare = json.loads(chat_request(client, original, generated).choices[0].message.content or "")
    assert isinstance(bare, list) and len(bare) == 5

    refused = chat_request(client, original, generated).choices[0].message
    assert refused.content is None and refused.refusal == "I can't compare these."


def test_chat_qwen_box_conventions(openai_fake: OpenAIProtocolServer) -> None:
    client = openai_fake.client()
    original = solid((240, 240, 240), 96, 64)
    original[32:48, 12:36] = (40, 70, 200)
    original_png, generated_png = png_bytes(original), png_bytes(solid((240, 240, 240), 96, 64))
    openai_fake.script(
        "chat",
        {"k": 1},
        {"k": 1, "box_convention": "qwen3-vl", "bare_list": True},
        {"k": 1, "box_convention": "qwen2.5-vl", "bare_list": True},
    )

    (reference,) = json.loads(chat_request(client, original_png, generated_png).choices[0].message.content or "")["differences"]
    ymin, xmin, ymax, xmax = reference["box_2d"]
    (qwen3,) = json.loads(chat_request(client, original_png, generated_png).choices[0].message.content or "")
    assert qwen3["bbox_2d"] == [xmin, ymin, xmax, ymax] and "box_2d" not in qwen3
    (qwen25,) = json.loads(chat_request(client, original_png, generated_png).choices[0].message.content or "")
    width, height = qwen25_input_size(96, 64)
    assert (width, height) != (96, 64) and width % 28 == 0 and height % 28 == 0
    assert qwen25["bbox_2d"] == [
        round(xmin * width / 1000),
        round(ymin * height / 1000),
        round(xmax * width / 1000),
        round(ymax * height / 1000),
    ]


# -- faults -------------------------------------------------------------------------------------


def test_429_with_retry_after_is_honoured_by_the_sdk(openai_fake: OpenAIProtocolServer) -> None:
    openai_fake.script("chat", {"status": 429, "headers": {"Retry-After": "1"}})
    completion = chat_request(openai_fake.client(max_retries=2), BLUE, STRIPES)
    assert json.loads(completion.choices[0].message.content or "")["differences"]

    limited, retried = openai_fake.requests("chat")
    assert limited["status"] == 429 and retried["status"] == 200
    assert [limited["headers"]["x-stainless-retry-count"], retried["headers"]["x-stainless-retry-count"]] == ["0", "1"]
    assert retried["received_at"] - limited["answered_at"] >= 0.9  # waited the Retry-After second, not the 0.5 s default


def test_429_error_body_and_headers_reach_the_sdk(openai_fake: OpenAIProtocolServer) -> None:
    openai_fake.script("*", {"status": 429, "headers": {"retry-after-ms": "20"}, "times": 2})
    with pytest.raises(openai.RateLimitError) as info:
        edit_request(openai_fake.client(max_retries=1), "x", [BLUE])
    error = info.value
    assert error.status_code == 429 and error.code == "rate_limit_exceeded" and error.type == "requests"
    assert error.response.headers["retry-after-ms"] == "20" and error.request_id and error.request_id.startswith("req_")
    assert set(error.body) == {"message", "type", "param", "code"}  # type: ignore[arg-type]
    assert [r["headers"]["x-stainless-retry-count"] for r in openai_fake.requests()] == ["0", "1"]


@pytest.mark.parametrize("status, exc_type", [(500, openai.InternalServerError), (503, openai.InternalServerError)])
def test_5xx_is_retried_then_succeeds_or_exhausts(openai_fake: OpenAIProtocolServer, status: int, exc_type: type) -> None:
    client = openai_fake.client(max_retries=2)
    openai_fake.script("images", {"status": status, "times": 2, "headers": {"retry-after-ms": "10"}})
    ok = client.images.edit(model="gpt-image-1", image=[("a.png", BLUE, "image/png")], prompt="x")
    assert ok.data and ok.data[0].b64_json
    assert [r["status"] for r in openai_fake.requests("images")] == [status, status, 200]

    openai_fake.reset()
    openai_fake.script(
        "responses",
        {"status": status, "times": 3, "error": {"message": "upstream exploded"}, "headers": {"retry-after-ms": "10"}},
    )
    with pytest.raises(exc_type) as info:
        edit_request(client, "x", [BLUE])
    assert (
        info.value.status_code == status
        and info.value.body["message"] == "upstream exploded"
        and info.value.type == "server_error"
    )
    assert [r["headers"]["x-stainless-retry-count"] for r in openai_fake.requests()] == ["0", "1", "2"]


def test_a_reply_slower_than_the_client_timeout(openai_fake: OpenAIProtocolServer) -> None:
    openai_fake.script("chat", {"delay_s": 1.5})
    with pytest.raises(openai.APITimeoutError):
        chat_request(openai_fake.client(timeout=0.4, max_retries=0), BLUE, STRIPES)

    openai_fake.reset()
    openai_fake.script("chat", {"delay_s": 1.5})
    completion = chat_request(openai_fake.client(timeout=0.4, max_retries=1), BLUE, STRIPES)  # the retry is fast
    assert completion.choices[0].message.content
    assert [r["headers"]["x-stainless-retry-count"] for r in openai_fake.requests("chat")] == ["0", "1"]


def test_raw_json_body_reply(openai_fake: OpenAIProtocolServer) -> None:
    body = {"created": 1, "data": [{"b64_json": base64.b64encode(BLUE).decode()}]}
    openai_fake.script("images", {"json": body})
    result = openai_fake.client().images.edit(model="gpt-image-1", image=[("a.png", STRIPES, "image/png")], prompt="x")
    assert result.created == 1 and result.data and base64.b64decode(result.data[0].b64_json or "") == BLUE


def test_api_key_is_required_and_never_logged(openai_fake: OpenAIProtocolServer) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        chat_request(openai_fake.client(api_key="sk-wrong-secret"), BLUE, STRIPES)
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
    (logged,) = openai_fake.requests()
    assert logged["auth_present"] and not logged["auth_ok"]
    dumped = json.dumps(openai_fake.requests())
    assert "sk-wrong-secret" not in dumped and openai_fake.api_key not in dumped


def test_unknown_route_and_bad_script(openai_fake: OpenAIProtocolServer) -> None:
    with pytest.raises(openai.NotFoundError):
        openai_fake.client().models.list()
    with pytest.raises(RuntimeError, match="unknown scripted reply field"):
        openai_fake.script("chat", {"stauts": 500})
    with pytest.raises(RuntimeError, match="endpoint must be one of"):
        openai_fake.script("embeddings", {"status": 500})
    assert openai_fake.pending() == {"responses": [], "images": [], "chat": [], "*": []}


async def test_slow_answers_are_served_concurrently(openai_fake: OpenAIProtocolServer) -> None:
    openai_fake.configure(latency_s=0.5)
    client = openai_fake.async_client()
    started = time.monotonic()
    results = await asyncio.gather(
        *[client.images.edit(model="gpt-image-1", image=[("a.png", BLUE, "image/png")], prompt=f"variant {i}") for i in range(16)]
    )
    elapsed = time.monotonic() - started
    assert all(r.data for r in results)
    assert elapsed < 4.0, f"16 answers of 0.5 s took {elapsed:.1f} s: the server serialised them"
    assert len({r.data[0].b64_json for r in results if r.data}) == 16
    await client.close()
