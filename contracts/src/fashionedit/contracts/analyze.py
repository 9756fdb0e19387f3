"""Ground truth + generated design to the top-k differences (paper §2.3.1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .boxes import Box2D, Repair
from .common import Contract, ModelInfo, Timings, Usage
from .images import ImagePayload

MAX_K = 10

# Verbatim from the published code, typos included ("discription").
PAPER_ANALYZE_PROMPT = (
    "Detect the three detailed differences of the clothes between the two images and return JSON style. "
    "For each result, the discription should only contain the difference of the first image, and give the "
    "bounding box of the box_2d should be [ymin, xmin, ymax, xmax] normalized to 0-1000."
)


class Difference(Contract):
    description: str = Field(min_length=1, description="What the original (first image) has that the design lacks")
    box_2d: Box2D
    crop: ImagePayload | None = Field(
        default=None,
        description="The original's pixels for box_2d, as the request's crop_window says: exactly the box (the paper's "
        "reference crop), or the box widened about its centre to a readable size",
    )


class AnalyzeRequest(Contract):
    original: ImagePayload = Field(description="Ground truth: image 1")
    generated: ImagePayload = Field(description="The design: image 2")
    k: int = Field(default=3, ge=1, le=MAX_K, description="How many differences (paper: 3)")
    include_crops: bool = True
    crop_window: Literal["box", "readable"] = Field(
        default="box",
        description="'box': each crop is exactly the original's pixels inside box_2d (the paper's reference crop, what an "
        "editor should get); 'readable': each side widened about the box's centre to at least 96 px or 1/8 of the image's "
        "shorter side, shifted inside the image, for a person to read (box_2d stays tight)",
    )
    include_annotated: bool = Field(default=False, description="Return the original with the boxes drawn")
    include_raw: bool = Field(default=False, description="Return the model's raw text")
    backend: str | None = None


class AnalyzeResponse(Contract):
    differences: list[Difference]
    repairs: list[Repair] = Field(default_factory=list, description="Every change made to the model's output")
    annotated: ImagePayload | None = None
    raw_text: str | None = None
    size_rule: str | None = Field(default=None, description="How differing image sizes were reconciled")
    attempts: int = 1
    model: ModelInfo
    timings: Timings
    usage: Usage | None = None
