"""The one interface every analyzer backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from PIL import Image

from fashionedit.contracts import ImagePayload, ModelInfo, Repair, Usage
from fashionedit.services.common import Stopwatch

from ..parsing import ParsedDifference


@dataclass
class ImagePair:
    """The decoded images (RGB) and, where they came from a request, their payloads (sent upstream as they are)."""

    original: Image.Image
    generated: Image.Image
    original_payload: ImagePayload | None = None
    generated_payload: ImagePayload | None = None


@dataclass
class BackendResult:
    """Differences with boxes relative to the ORIGINAL (image 1), plus what it took to get them."""

    differences: list[ParsedDifference]
    repairs: list[Repair] = field(default_factory=list)
    raw_text: str | None = None
    attempts: int = 1
    usage: Usage | None = None
    size_rule: str | None = None


@runtime_checkable
class AnalyzerBackend(Protocol):
    name: str

    def model_info(self) -> ModelInfo:
        """Which backend, model and weights answer (never a secret)."""

    def analyze(self, pair: ImagePair, k: int, watch: Stopwatch) -> BackendResult:
        """Top-``k`` differences; boxes are ``box_2d`` relative to ``original``. Raises ServiceError subclasses."""

    def close(self) -> None:
        """Release clients or resources."""
