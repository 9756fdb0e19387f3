"""Request/response contracts: defaults from the paper, clear validation errors, schema export."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from pydantic import ValidationError

from fashionedit.contracts import (
    BUG_PROMPT,
    PAPER_ANALYZE_PROMPT,
    VANILLA_PROMPT,
    AnalyzeRequest,
    EditMode,
    EditRequest,
    ErrorResponse,
    GenerateRequest,
    ImagePayload,
    ScoreRequest,
)
from fashionedit.contracts.schema_export import EXPORTED, default_dir, main, render_all


@pytest.fixture(scope="module")
def image() -> ImagePayload:
    return ImagePayload.from_pil(Image.new("RGB", (16, 16), (1, 2, 3)))


def test_generate_defaults_are_the_papers() -> None:
    req = GenerateRequest(prompt="  a white blazer ")
    assert (req.prompt, req.negative_prompt, req.steps, req.guidance, req.width, req.height) == (
        "a white blazer",
        "",
        28,
        7.0,
        1024,
        1024,
    )


@pytest.mark.parametrize(
    "fields,match",
    [
        ({"prompt": "   "}, "must not be empty"),
        ({"prompt": ""}, "at least 1 character"),
        ({"prompt": "x", "width": 1000}, "not a multiple of 16"),
        ({"prompt": "x", "height": 32}, "greater than or equal to 64"),
        ({"prompt": "x", "width": 4096}, "less than or equal to 2048"),
        ({"prompt": "x", "steps": 0}, "greater than or equal to 1"),
        ({"prompt": "x", "guidance": 31}, "less than or equal to 30"),
        ({"prompt": "x", "num_images": 9}, "less than or equal to 8"),
        ({"prompt": "x", "seed": -1}, "greater than or equal to 0"),
        ({"prompt": "x", "sampler": "euler"}, "Extra inputs are not permitted"),
    ],
)
def test_generate_bad_input(fields, match) -> None:
    with pytest.raises(ValidationError, match=match):
        GenerateRequest(**fields)


def test_paper_prompts_are_verbatim() -> None:
    assert VANILLA_PROMPT == "Please edit the image based on the following description:"
    assert BUG_PROMPT == "Please edit the first image based on the following description and the second reference image:"
    assert "discription" in PAPER_ANALYZE_PROMPT and "[ymin, xmin, ymax, xmax] normalized to 0-1000" in PAPER_ANALYZE_PROMPT


def test_edit_mode_follows_references(image) -> None:
    assert EditRequest(image=image, instruction="make it navy").mode is EditMode.TEXT
    assert EditRequest(image=image, instruction="add this collar", references=[image]).mode is EditMode.TEXT_IMAGE


@pytest.mark.parametrize(
    "extra,match",
    [
        ({"target_box": [0, 0, 1200, 10]}, "outside 0-1000"),
        ({"size": "huge"}, "String should match pattern"),
        ({"quality": "ultra"}, "Input should be"),
        ({"instruction": " "}, "must not be empty"),
    ],
)
def test_edit_bad_input(image, extra, match) -> None:
    fields = {"image": image, "instruction": "x", **extra}
    with pytest.raises(ValidationError, match=match):
        EditRequest(**fields)


def test_edit_requires_an_image() -> None:
    with pytest.raises(ValidationError, match="image"):
        EditRequest(instruction="x")  # type: ignore[call-arg]


def test_analyze_k_range(image) -> None:
    assert AnalyzeRequest(original=image, generated=image).k == 3
    with pytest.raises(ValidationError):
        AnalyzeRequest(original=image, generated=image, k=0)
    with pytest.raises(ValidationError):
        AnalyzeRequest(original=image, generated=image, k=11)


def test_score_request_limits_and_dedup(image) -> None:
    pair = {"generated": image, "reference": image}
    req = ScoreRequest(pairs=[pair], metrics=["clip", "psnr", "clip"])
    assert [m.value for m in req.metrics] == ["clip", "psnr"] and req.clip_threshold == 0.90
    with pytest.raises(ValidationError, match="at least 1"):
        ScoreRequest(pairs=[])
    with pytest.raises(ValidationError, match="at most 256"):
        ScoreRequest(pairs=[pair] * 257)


def test_error_response_shape() -> None:
    err = ErrorResponse.make(422, "invalid_request", "prompt: must not be empty", request_id="abc")
    assert json.loads(err.model_dump_json(exclude_none=True)) == {
        "error": {
            "code": "invalid_request",
            "message": "prompt: must not be empty",
            "status": 422,
            "details": [],
            "request_id": "abc",
        }
    }


def test_schema_files_match_the_models() -> None:
    """Fails when a contract changes without `python -m fashionedit.contracts.schema_export`."""
    assert main(["--check", str(default_dir())]) == 0, "run: python -m fashionedit.contracts.schema_export"


def test_every_exported_schema_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    rendered = render_all()
    assert set(rendered) >= {f"{name}.json" for name in EXPORTED}
    for text in rendered.values():
        Draft202012Validator.check_schema(json.loads(text))


def test_a_request_validates_against_its_exported_schema(image) -> None:
    from jsonschema import Draft202012Validator

    schema = json.loads(render_all()["GenerateRequest.json"])
    Draft202012Validator(schema).validate(GenerateRequest(prompt="a coat").model_dump(mode="json"))
    errors = list(Draft202012Validator(schema).iter_errors({"prompt": "x", "steps": 0}))
    assert errors, "the schema must carry the same limits as the model"
