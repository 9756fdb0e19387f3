"""The one small interface every editing backend implements."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from fashionedit.contracts import Box2D, ImagePayload, ModelInfo, Usage
from fashionedit.contracts.edit import EditMode
from fashionedit.services.common import Stopwatch


@dataclass
class EditJob:
    """A validated edit, ready for a backend: the inputs plus the prompt composed from the template."""

    image: ImagePayload
    instruction: str
    prompt: str  # template + instruction: what an instruction-following model is sent
    references: list[ImagePayload] = field(default_factory=list)
    target_box: Box2D | None = None
    seed: int | None = None
    size: str | None = None
    quality: str | None = None
    input_fidelity: str | None = None
    request_id: str | None = None
    watch: Stopwatch = field(default_factory=Stopwatch)

    @property
    def mode(self) -> EditMode:
        return EditMode.TEXT_IMAGE if self.references else EditMode.TEXT


@dataclass
class EditResult:
    image: ImagePayload
    prompt: str  # the exact prompt the model was given
    model: ModelInfo
    usage: Usage | None = None
    revised_prompt: str | None = None
    target_box: Box2D | None = None
    warnings: list[str] = field(default_factory=list)


class EditBackend(abc.ABC):
    """``load()`` once at start-up (it may be slow), then ``edit()`` per request.

    ``edit`` raises :class:`~fashionedit.services.common.ServiceError` subclasses for anything a
    caller should see (bad input 422, upstream faults 502/503/504).
    """

    name: str = "base"

    @property
    @abc.abstractmethod
    def max_references(self) -> int:
        """How many reference images one request may carry."""

    def load(self) -> None:  # noqa: B027 - an optional hook: backends with nothing to load keep it
        """Heavy start-up work (weights, clients). Called once, maybe in a thread."""

    @abc.abstractmethod
    def model_info(self) -> ModelInfo:
        """What answers by default (a response may name a more specific model)."""

    @abc.abstractmethod
    async def edit(self, job: EditJob) -> EditResult: ...

    async def aclose(self) -> None:  # noqa: B027 - an optional hook: backends holding nothing keep it
        """Release clients and connections."""
