"""Text to design image: the paper's Initialization (SD3, 28 steps, guidance 7.0, 1024x1024)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from .common import Contract, ModelInfo, Timings
from .images import ImagePayload

MAX_SEED = 2**32 - 1
MIN_SIDE, MAX_SIDE, SIDE_MULTIPLE = 64, 2048, 16
MAX_IMAGES_PER_REQUEST = 8


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace; describe the garment, e.g. 'a white linen blazer'")
    return value.strip()


def _side(value: int) -> int:
    if value % SIDE_MULTIPLE:
        lower = value - value % SIDE_MULTIPLE
        raise ValueError(f"{value} is not a multiple of {SIDE_MULTIPLE}; use {max(lower, MIN_SIDE)} or {lower + SIDE_MULTIPLE}")
    return value


Prompt = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_non_blank)]
Side = Annotated[int, Field(ge=MIN_SIDE, le=MAX_SIDE), AfterValidator(_side)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="Random seed; the same seed gives the same image on the same machine")]


class GenerateRequest(Contract):
    prompt: Prompt = Field(examples=["This lady is wearing a long-sleeve white blazer with a lapel neckline."])
    negative_prompt: str = Field(default="", max_length=10_000)
    seed: Seed | None = Field(default=None, description="Omit to draw one; the drawn seed is returned per image")
    width: Side = 1024
    height: Side = 1024
    steps: int = Field(default=28, ge=1, le=150, description="Denoising steps (paper: 28)")
    guidance: float = Field(default=7.0, ge=0.0, le=30.0, description="Classifier-free guidance scale (paper: 7.0)")
    num_images: int = Field(default=1, ge=1, le=MAX_IMAGES_PER_REQUEST)


class GeneratedImage(Contract):
    image: ImagePayload
    seed: Seed


class PromptTruncation(Contract):
    """What CLIP's 77-token window cut from an over-long prompt (T5, where loaded, sees more)."""

    encoder: str = "clip"
    max_tokens: int = 77
    token_count: int
    truncated_text: str


class GenerateResponse(Contract):
    images: list[GeneratedImage]
    model: ModelInfo
    timings: Timings
    prompt_truncation: PromptTruncation | None = None
    warnings: list[str] = Field(
        default_factory=list, description="How the prompt was read, e.g. words the offline flats backend did not understand"
    )
