"""Backend registry: a settings name -> a loader that returns a ready :class:`GeneratorBackend`.

Loaders import their heavy dependencies when called, so the flats-only
deployment never imports torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..settings import GeneratorSettings
from .base import GeneratorBackend, ImageJob, RenderSettings

# name -> (module, function); each loader takes (settings, backend=name).
BACKENDS: dict[str, tuple[str, str]] = {
    "flats": ("flats", "load"),
    "sd3": ("diffusers_pipeline", "load"),
    "sd2": ("diffusers_pipeline", "load"),
    "tiny": ("tiny", "load"),
}


def loader_for(name: str) -> Callable[[GeneratorSettings], GeneratorBackend]:
    if name not in BACKENDS:
        raise ValueError(f"unknown generator backend {name!r}; choose one of {sorted(BACKENDS)}")
    module_name, function = BACKENDS[name]

    def load(settings: GeneratorSettings) -> GeneratorBackend:
        module = importlib.import_module(f"{__name__}.{module_name}")
        return getattr(module, function)(settings, backend=name)

    return load


def load_backend(settings: GeneratorSettings) -> GeneratorBackend:
    return loader_for(settings.backend)(settings)


__all__ = ["BACKENDS", "GeneratorBackend", "ImageJob", "RenderSettings", "load_backend", "loader_for"]
