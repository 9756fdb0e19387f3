"""Design image + instruction [+ references] to edited image: the paper's Vanilla and BUG editing."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .boxes import Box2D
from .common import Contract, ModelInfo, Timings, Usage
from .generate import Seed
from .images import ImagePayload

MAX_REFERENCES = 16

# The paper's prompts, verbatim from the published code (no space before the description).
VANILLA_PROMPT = "Please edit the image based on the following description:"
BUG_PROMPT = "Please edit the first image based on the following description and the second reference image:"


def compose_prompt(template: str, instruction: str, separator: str = "") -> str:
    """The prompt an editor sends: the paper's ``template + description`` (no separator) by default.

    A template containing ``{instruction}`` is formatted instead, so a deployment can put the
    description anywhere; ``separator`` goes between template and description otherwise.
    """
    if "{instruction}" in template:
        return template.replace("{instruction}", instruction)
    return f"{template}{separator}{instruction}"


def _instruction_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or whitespace; say what to change, e.g. 'add four white buttons down the front'")
    return value  # unchanged: the published code joins the description to the prompt byte for byte


# Unlike a generation prompt, an instruction is not stripped: leading/trailing whitespace reaches the editor as sent.
Instruction = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_instruction_not_blank)]


class EditMode(str, Enum):
    TEXT = "text"  # text-as-prompt, the paper's Vanilla
    TEXT_IMAGE = "text+image"  # image-into-prompt, the paper's BUG


class EditRequest(Contract):
    image: ImagePayload = Field(description="The current design")
    instruction: Instruction = Field(
        examples=["Add four white buttons down the front."],
        description="The description of the change, sent as given (not stripped); empty or whitespace-only is refused",
    )
    references: list[ImagePayload] = Field(
        default_factory=list,
        max_length=MAX_REFERENCES,
        description="Reference images (sketch, detail crop, example photo). None means text-as-prompt.",
    )
    target_box: Box2D | None = Field(default=None, description="Where the change belongs, box_2d on 0-1000")
    seed: Seed | None = None
    size: str | None = Field(
        default=None, pattern=r"^(auto|\d{2,4}x\d{2,4})$", description="Output size, e.g. '1024x1024' or 'auto'"
    )
    quality: Literal["auto", "low", "medium", "high"] | None = None
    input_fidelity: Literal["low", "high"] | None = None
    backend: str | None = Field(default=None, description="Backend override, where the service allows one")

    @property
    def mode(self) -> EditMode:
        return EditMode.TEXT_IMAGE if self.references else EditMode.TEXT


class EditResponse(Contract):
    image: ImagePayload
    mode: EditMode
    prompt: str = Field(description="The exact prompt sent to the model")
    model: ModelInfo
    timings: Timings
    usage: Usage | None = None
    revised_prompt: str | None = Field(default=None, description="The provider's rewrite of the prompt, if it reports one")
    target_box: Box2D | None = Field(default=None, description="Where the edit was applied, when the backend knows")
    warnings: list[str] = Field(default_factory=list, description="Parts of the instruction the backend did not apply, and why")
    request_id: str | None = None
