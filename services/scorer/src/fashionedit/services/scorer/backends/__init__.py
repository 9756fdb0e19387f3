"""CLIP embedder registry: ``FASHIONEDIT_SCORER_BACKEND`` picks one; heavy imports stay inside each module."""

from __future__ import annotations

from collections.abc import Callable

from fashionedit.contracts import ModelInfo, WeightsIdentity

from ..settings import ScorerSettings
from .base import EmbedderUnavailable, ImageEmbedder


def _open_clip(settings: ScorerSettings) -> ImageEmbedder | EmbedderUnavailable:
    from . import openclip

    return openclip.load(settings)


def _none(settings: ScorerSettings) -> EmbedderUnavailable:
    return EmbedderUnavailable(
        reason="CLIP is switched off on this deployment (FASHIONEDIT_SCORER_BACKEND=none)",
        info=ModelInfo(backend="none", model_id="none", weights=WeightsIdentity(name="none", source="none"), offline=True),
    )


BACKENDS: dict[str, Callable[[ScorerSettings], ImageEmbedder | EmbedderUnavailable]] = {
    "open-clip": _open_clip,
    "none": _none,
}


def load_embedder(settings: ScorerSettings) -> ImageEmbedder | EmbedderUnavailable:
    return BACKENDS[settings.backend](settings)


__all__ = ["BACKENDS", "EmbedderUnavailable", "ImageEmbedder", "load_embedder"]
