"""Backend registry: name -> factory(settings). Heavy imports stay inside each backend's module."""

from __future__ import annotations

from collections.abc import Callable

from ..settings import AnalyzerSettings
from .base import AnalyzerBackend, BackendResult, ImagePair


def _classical(settings: AnalyzerSettings) -> AnalyzerBackend:
    from .classical import ClassicalBackend

    return ClassicalBackend(settings)


def _openai_chat(settings: AnalyzerSettings) -> AnalyzerBackend:
    from .openai_chat import OpenAIChatBackend

    return OpenAIChatBackend(settings)


def _openai_vlm(settings: AnalyzerSettings) -> AnalyzerBackend:
    from .openai_vlm import OpenAIVLMBackend

    return OpenAIVLMBackend(settings)


BACKENDS: dict[str, Callable[[AnalyzerSettings], AnalyzerBackend]] = {
    "classical": _classical,
    "openai-chat": _openai_chat,
    "openai-vlm": _openai_vlm,
}


def create_backend(name: str, settings: AnalyzerSettings) -> AnalyzerBackend:
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown analyzer backend {name!r}; choose one of {sorted(BACKENDS)}") from None
    return factory(settings)


__all__ = ["AnalyzerBackend", "BACKENDS", "BackendResult", "ImagePair", "create_backend"]
