"""openai-responses (the paper's method) through the official SDK against the OpenAI-protocol server."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import Box2D, EditRequest
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT, EditMode
from fashionedit.services.editor.backends.openai_common import box_mask_png

from .conftest import openai_serving, payload
from .helpers import abs_diff, box_masks, sha256

BOX = Box2D((250.0, 125.0, 625.0, 500.0))  # rows 16-40, columns 8-32 of a 64x64 design


async def test_bug_edit_sends_the_papers_request_and_returns_the_tool_result(openai_fake, design, reference):
    serving = openai_serving(openai_fake, "openai-responses")
    request = EditRequest(
        image=design,
        instruction="Add a red and yellow checked pocket.",
        references=[reference],
        target_box=BOX,
        size="64x64",
        quality="low",
        input_fidelity="high",
    )
    response = await serving.edit(request, request_id="req-bug-1")

    [sent] = openai_fake.requests("responses")
    assert sent["model"] == "gpt-4.1-mini"
    # The paper's BUG prompt, verbatim, with no separator before the description.
    assert sent["prompt"] == BUG_PROMPT + "Add a red and yellow checked pocket."
    content = sent["body"]["input"][0]["content"]
    assert [part["type"] for part in content] == ["input_text", "input_image", "input_image"]
    # Image order: current design first, then the reference; the bytes are the caller's, unchanged.
    assert [img["sha256"] for img in sent["images"]] == [sha256(design.to_bytes()), sha256(reference.to_bytes())]
    assert [(img["width"], img["height"]) for img in sent["images"]] == [(64, 64), (16, 16)]
    tool = sent["options"]
    assert {k: v for k, v in tool.items() if k != "input_image_mask"} == {
        "type": "image_generation",
        "size": "64x64",
        "quality": "low",
        "input_fidelity": "high",
    }
    # The mask: the design's size, transparent exactly over the target box.
    assert (sent["mask"]["width"], sent["mask"]["height"]) == (64, 64)
    expected_mask = box_mask_png(BOX, (64, 64))
    assert sent["mask"]["sha256"] == sha256(expected_mask)
    alpha = np.asarray(Image.open(io.BytesIO(expected_mask)).convert("RGBA"))[..., 3]
    inside, outside = box_masks(BOX, (64, 64))
    assert (alpha[inside] == 0).all() and (alpha[outside] == 255).all()
    assert sent["headers"]["x-request-id"] == "req-bug-1"

    # What came back: the server's image, edited inside the masked box only.
    assert response.mode is EditMode.TEXT_IMAGE
    assert response.prompt == sent["prompt"]
    assert response.model.backend == "openai-responses" and response.model.model_id == "gpt-4.1-mini"
    assert response.model.offline is False and response.model.random_weights is False
    assert response.image.size == (64, 64)
    diff = abs_diff(response.image, design)
    assert diff[inside].mean() > 20 and diff[outside].max() == 0
    assert response.usage is not None and response.usage.images == 1
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens > 0
    assert response.revised_prompt == sent["prompt"]
    assert response.target_box == BOX and response.request_id == "req-bug-1"
    assert "upstream" in response.timings.stages
    await serving.aclose()


async def test_vanilla_edit_sends_one_image_and_the_bare_tool(openai_fake, design):
    serving = openai_serving(openai_fake, "openai-responses")
    scripted = payload(Image.new("RGB", (32, 48), (1, 2, 3)))
    openai_fake.script("responses", {"image_b64": base64.b64encode(scripted.to_bytes()).decode()})
    response = await serving.edit(EditRequest(image=design, instruction="Make the sleeves long."))

    [sent] = openai_fake.requests("responses")
    assert sent["prompt"] == VANILLA_PROMPT + "Make the sleeves long."
    assert [img["sha256"] for img in sent["images"]] == [sha256(design.to_bytes())]
    assert sent["options"] == {"type": "image_generation"}  # exactly the paper's tool spec
    assert sent["mask"] is None
    assert "tool_choice" not in sent["body"]
    assert response.mode is EditMode.TEXT
    assert response.image.to_bytes() == scripted.to_bytes()  # the tool's result, byte for byte
    await serving.aclose()


async def test_configured_template_separator_tool_model_and_forced_tool(openai_fake, design, reference):
    serving = openai_serving(
        openai_fake,
        "openai-responses",
        bug_prompt="Edit image 1 using reference image 2. Change: {instruction}",
        vanilla_prompt="Edit:",
        prompt_separator=" ",
        responses_model="gpt-4.1",
        responses_image_model="gpt-image-1",
        responses_force_tool=True,
        openai_size="1024x1024",
        openai_quality="high",
    )
    await serving.edit(EditRequest(image=design, instruction="wider collar", references=[reference], size="64x64"))
    await serving.edit(EditRequest(image=design, instruction="wider collar"))
    bug, vanilla = openai_fake.requests("responses")
    assert bug["prompt"] == "Edit image 1 using reference image 2. Change: wider collar"
    assert vanilla["prompt"] == "Edit: wider collar"
    assert bug["model"] == "gpt-4.1"
    # The request's size wins over the configured default; the configured quality fills in.
    assert bug["options"] == {"type": "image_generation", "model": "gpt-image-1", "size": "64x64", "quality": "high"}
    assert vanilla["options"]["size"] == "1024x1024"
    assert bug["body"]["tool_choice"] == {"type": "image_generation"}
    await serving.aclose()


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        ({"no_image": True, "text": "Sure, here is a description instead."}, "without an image"),
        ({"refusal": "I can't help with that."}, "refused"),
        ({"image_status": "failed"}, "image tool failed"),
    ],
)
async def test_answers_without_an_image_are_clear_502s(openai_fake, design, reply, needle):
    from fashionedit.services.common import UpstreamError

    serving = openai_serving(openai_fake, "openai-responses")
    openai_fake.script("responses", reply)
    with pytest.raises(UpstreamError) as info:
        await serving.edit(EditRequest(image=design, instruction="Add buttons."))
    assert info.value.status == 502 and needle in info.value.message
    await serving.aclose()
