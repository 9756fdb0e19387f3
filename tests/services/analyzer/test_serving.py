"""In-process analyzer: classical results, crops, the size rule and bad input (no server)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from pydantic import ValidationError

from fashionedit.contracts import AnalyzeRequest, AnalyzeResponse, ImagePayload
from fashionedit.services.analyzer.serving import AnalyzerServing
from fashionedit.services.analyzer.settings import AnalyzerSettings
from fashionedit.services.common import InvalidInput

from .helpers import assert_crop_shows_box, flat_pair, payload
from .synthetic import garment_pair


@pytest.fixture(scope="module")
def serving() -> AnalyzerServing:
    return AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[]))


def assert_crops_exact(response: AnalyzeResponse, original: Image.Image) -> None:
    for difference in response.differences:
        assert_crop_shows_box(original, difference)


@pytest.mark.parametrize("seed", range(6))
def test_classical_finds_planted_patches_and_names_their_colour(serving, seed: int) -> None:
    original, generated, planted = garment_pair(seed, n=2)
    response = serving.analyze(AnalyzeRequest(original=payload(original), generated=payload(generated), k=3))
    assert response.model.backend == "classical" and response.model.offline
    for truth in planted:
        best = max(response.differences, key=lambda d: d.box_2d.iou(truth.box))
        assert best.box_2d.iou(truth.box) >= 0.5, (truth, [d.box_2d for d in response.differences])
        # Each patch is a small part of the garment: its colour is named as a detail's, not the garment's.
        assert f", the original is {truth.colour} (a detail, not the whole upper garment;" in best.description, best.description
    assert_crops_exact(response, original)


def test_identical_images_have_no_differences(serving) -> None:
    original, _ = flat_pair()
    response = serving.analyze(AnalyzeRequest(original=payload(original), generated=payload(original)))
    assert response.differences == [] and response.size_rule is None


def test_generated_of_another_size_is_stretched_to_the_original(serving) -> None:
    original, generated, planted = garment_pair(3, size=(120, 160), n=1)
    other = generated.resize((90, 90), Image.Resampling.NEAREST)  # another size and aspect ratio
    response = serving.analyze(AnalyzeRequest(original=payload(original), generated=payload(other), include_annotated=True))
    assert "resized to the original's 120x160" in response.size_rule
    assert max(d.box_2d.iou(planted[0].box) for d in response.differences) >= 0.5
    assert response.annotated.size == original.size
    assert_crops_exact(response, original)


def test_crops_and_raw_text_are_optional(serving) -> None:
    original, generated = flat_pair()
    response = serving.analyze(AnalyzeRequest(original=payload(original), generated=payload(generated), include_crops=False))
    assert response.differences and all(d.crop is None for d in response.differences)
    assert response.raw_text is None and response.annotated is None


def test_k_is_respected(serving) -> None:
    original, generated, _ = garment_pair(1, n=3)
    response = serving.analyze(AnalyzeRequest(original=payload(original), generated=payload(generated), k=1))
    assert len(response.differences) == 1


@pytest.mark.parametrize("k", [0, 11, -1])
def test_k_out_of_range_is_refused(k: int) -> None:
    original, generated = flat_pair()
    with pytest.raises(ValidationError):
        AnalyzeRequest(original=payload(original), generated=payload(generated), k=k)


def test_truncated_image_is_422(serving) -> None:
    original, generated = flat_pair()
    buffer = io.BytesIO()
    original.save(buffer, format="PNG")
    truncated = ImagePayload(base64.b64encode(buffer.getvalue()[:-40]).decode())  # the header still reads
    with pytest.raises(InvalidInput) as info:
        serving.analyze(AnalyzeRequest(original=truncated, generated=payload(generated)))
    assert info.value.status == 422 and info.value.details[0].loc == ["original"]


def test_unknown_backend_is_422(serving) -> None:
    original, generated = flat_pair()
    with pytest.raises(InvalidInput) as info:
        serving.analyze(AnalyzeRequest(original=payload(original), generated=payload(generated), backend="openai-chat"))
    assert "not enabled" in info.value.message


def test_info_lists_backends(serving) -> None:
    info = serving.info()
    assert info.service == "analyzer" and info.backends == ["classical"] and info.limits["max_k"] == 10
