"""The one interface every generator backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from fashionedit.contracts import ModelInfo, PromptTruncation


@dataclass(frozen=True)
class RenderSettings:
    """What must be equal for images to share one pipeline call (the batching key)."""

    width: int
    height: int
    steps: int
    guidance: float


@dataclass(frozen=True)
class ImageJob:
    """One image to make: its own prompt and seed, so requests can be merged into one call."""

    prompt: str
    negative_prompt: str
    seed: int


class GeneratorBackend(ABC):
    """Turns prompts into images. Loaded once; ``generate`` is called from one worker thread at a time."""

    #: Largest width/height this backend can render (the contract allows up to 2048).
    max_side: int = 2048

    @property
    @abstractmethod
    def model_info(self) -> ModelInfo: ...

    @abstractmethod
    def generate(self, settings: RenderSettings, jobs: Sequence[ImageJob]) -> list[Image.Image]:
        """One image per job, in order; ``jobs[i].seed`` alone decides image i's randomness."""

    def prompt_truncation(self, prompt: str) -> PromptTruncation | None:
        """What a 77-token CLIP window cuts from ``prompt`` (None when nothing is cut or no CLIP reads it)."""
        return None

    def warnings(self, prompt: str, negative_prompt: str, truncation: PromptTruncation | None) -> list[str]:
        """Things the caller should know about how the prompt was read."""
        return []

    def check(self, settings: RenderSettings) -> None:  # noqa: B027 - an optional hook: no limits beyond the contract's
        """Raise InvalidInput for requests this backend cannot serve (beyond the contract's limits)."""
