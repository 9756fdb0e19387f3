"""The interface every CLIP embedder implements, and what a failed load looks like."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from fashionedit.contracts import ModelInfo


class ImageEmbedder(Protocol):
    """Turns uint8 RGB images, already resized and cropped by :meth:`geometry`, into unit embeddings."""

    info: ModelInfo

    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of the model input."""

    def geometry(self, image: Image.Image) -> np.ndarray:
        """The model's own resize + crop for one RGB image, as a ``(H, W, 3)`` uint8 array (no normalisation)."""

    def embed(self, batch: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        """``(N, H, W, 3)`` uint8 -> ``(N, D)`` float32 L2-normalised embeddings, and stage timings in ms."""

    def close(self) -> None:
        """Release threads and device memory."""


@dataclass
class EmbedderUnavailable:
    """CLIP cannot be computed here; ``reason`` tells the operator what to configure."""

    reason: str
    info: ModelInfo


@dataclass
class EmbedderFactory:
    name: str
    create: Callable[..., ImageEmbedder | EmbedderUnavailable]
    requires: list[str] = field(default_factory=list)
