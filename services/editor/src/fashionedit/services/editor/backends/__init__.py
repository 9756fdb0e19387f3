"""Backend registry: name -> factory. Heavy imports happen inside each backend module only."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import EditBackend, EditJob, EditResult

if TYPE_CHECKING:
    from ..settings import EditorSettings

# name -> "module:class"; modules are imported only when their backend is selected.
REGISTRY: dict[str, str] = {
    "openai-responses": "fashionedit.services.editor.backends.openai_responses:OpenAIResponsesBackend",
    "openai-images": "fashionedit.services.editor.backends.openai_images:OpenAIImagesBackend",
    "local": "fashionedit.services.editor.backends.local:LocalBackend",
    "qwen-edit": "fashionedit.services.editor.backends.qwen_edit:QwenEditBackend",
    "flux-kontext": "fashionedit.services.editor.backends.flux_kontext:FluxKontextBackend",
}


def backend_factory(name: str) -> Callable[[EditorSettings], EditBackend]:
    try:
        target = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(REGISTRY)}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def create_backend(name: str, settings: EditorSettings) -> EditBackend:
    return backend_factory(name)(settings)


__all__ = ["EditBackend", "EditJob", "EditResult", "REGISTRY", "backend_factory", "create_backend"]
