"""openai-images (images.edit, gpt-image-1) through the official SDK against the OpenAI-protocol server."""

from __future__ import annotations

import base64

import pytest
from PIL import Image

from fashionedit.contracts import Box2D, EditRequest
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT
from fashionedit.services.common import InvalidInput, UpstreamError
from fashionedit.services.editor.backends.openai_common import box_mask_png

from .conftest import design_image, openai_serving, payload, reference_patch
from .helpers import abs_diff, box_masks, sha256

BOX = Box2D((500.0, 500.0, 875.0, 875.0))


async def test_several_references_go_as_image_parts_with_the_box_mask(openai_fake, design):
    serving = openai_serving(openai_fake, "openai-images")
    refs = [payload(reference_patch(16, 16)), payload(reference_patch(12, 20)), payload(design_image(24, seed=5).convert("RGB"))]
    request = EditRequest(
        image=design,
        instruction="Use these details.",
        references=refs,
        target_box=BOX,
        size="64x64",
        quality="medium",
        input_fidelity="low",
    )
    response = await serving.edit(request, request_id="req-img-7")

    [sent] = openai_fake.requests("images")
    assert sent["prompt"] == BUG_PROMPT + "Use these details."
    assert sent["model"] == "gpt-image-1"
    assert [f["field"] for f in sent["files"]] == ["image[]", "image[]", "image[]", "image[]", "mask"]
    assert [img["sha256"] for img in sent["images"]] == [sha256(p.to_bytes()) for p in [design, *refs]]
    assert [img["size_bytes"] for img in sent["images"]] == [len(p.to_bytes()) for p in [design, *refs]]
    assert sent["form"] == {
        "prompt": sent["prompt"],
        "model": "gpt-image-1",
        "n": "1",
        "size": "64x64",
        "quality": "medium",
        "input_fidelity": "low",
    }
    assert sent["mask"]["sha256"] == sha256(box_mask_png(BOX, (64, 64)))
    assert (sent["mask"]["width"], sent["mask"]["height"]) == (64, 64)
    assert sent["headers"]["x-request-id"] == "req-img-7"

    inside, outside = box_masks(BOX, (64, 64))
    diff = abs_diff(response.image, design)
    assert diff[inside].mean() > 20 and diff[outside].max() == 0
    assert response.model.backend == "openai-images" and response.model.model_id == "gpt-image-1"
    assert response.usage is not None and response.usage.images == 1 and response.usage.input_tokens > 0
    await serving.aclose()


async def test_vanilla_sends_one_image_no_mask_and_returns_the_data(openai_fake, design):
    serving = openai_serving(openai_fake, "openai-images", images_model="gpt-image-1-mini")
    scripted = payload(Image.new("RGB", (40, 40), (9, 8, 7)))
    openai_fake.script("images", {"image_b64": base64.b64encode(scripted.to_bytes()).decode()})
    response = await serving.edit(EditRequest(image=design, instruction="Shorter hem."))
    [sent] = openai_fake.requests("images")
    assert sent["prompt"] == VANILLA_PROMPT + "Shorter hem."
    assert len(sent["images"]) == 1 and sent["mask"] is None
    assert sent["form"] == {"prompt": sent["prompt"], "model": "gpt-image-1-mini", "n": "1"}
    assert response.image.to_bytes() == scripted.to_bytes()
    await serving.aclose()


async def test_empty_data_is_a_502_and_provider_400_is_a_422(openai_fake, design):
    serving = openai_serving(openai_fake, "openai-images")
    openai_fake.script("images", {"no_image": True}, {"status": 400, "error": "Invalid size '7x7'."})
    with pytest.raises(UpstreamError, match="without an image"):
        await serving.edit(EditRequest(image=design, instruction="x"))
    with pytest.raises(InvalidInput, match="Invalid size"):
        await serving.edit(EditRequest(image=design, instruction="x"))
    await serving.aclose()
