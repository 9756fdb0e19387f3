"""All four services behind one object, sync or async, sharing one settings object."""

from __future__ import annotations

import asyncio
from typing import Any

from fashionedit.contracts import ServiceInfo

from .services import (
    AnalyzerClient,
    AsyncAnalyzerClient,
    AsyncEditorClient,
    AsyncGeneratorClient,
    AsyncScorerClient,
    EditorClient,
    GeneratorClient,
    ScorerClient,
)
from .settings import SERVICES, ClientSettings


class FashionEditClient:
    """``client.generator.generate(...)``, ``client.editor.edit(...)``, ``client.analyzer``, ``client.scorer``."""

    def __init__(self, settings: ClientSettings | None = None, **overrides: Any) -> None:
        self.settings = (
            (settings or ClientSettings()).model_copy(update=overrides) if overrides else (settings or ClientSettings())
        )
        self.generator = GeneratorClient(self.settings)
        self.editor = EditorClient(self.settings)
        self.analyzer = AnalyzerClient(self.settings)
        self.scorer = ScorerClient(self.settings)

    def services(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SERVICES}

    def ready(self) -> dict[str, bool]:
        return {name: client.ready() for name, client in self.services().items()}

    def info(self) -> dict[str, ServiceInfo]:
        return {name: client.info() for name, client in self.services().items()}

    def close(self) -> None:
        for client in self.services().values():
            client.close()

    def __enter__(self) -> FashionEditClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFashionEditClient:
    """The async bundle; each service client bounds its own calls in flight (``max_concurrency``)."""

    def __init__(self, settings: ClientSettings | None = None, *, max_concurrency: int | None = None, **overrides: Any) -> None:
        base = settings or ClientSettings()
        self.settings = base.model_copy(update=overrides) if overrides else base
        self.generator = AsyncGeneratorClient(self.settings, max_concurrency=max_concurrency)
        self.editor = AsyncEditorClient(self.settings, max_concurrency=max_concurrency)
        self.analyzer = AsyncAnalyzerClient(self.settings, max_concurrency=max_concurrency)
        self.scorer = AsyncScorerClient(self.settings, max_concurrency=max_concurrency)

    def services(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SERVICES}

    async def ready(self) -> dict[str, bool]:
        results = await asyncio.gather(*(client.ready() for client in self.services().values()))
        return dict(zip(SERVICES, results, strict=True))

    async def info(self) -> dict[str, ServiceInfo]:
        results = await asyncio.gather(*(client.info() for client in self.services().values()))
        return dict(zip(SERVICES, results, strict=True))

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.services().values()))

    async def __aenter__(self) -> AsyncFashionEditClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
