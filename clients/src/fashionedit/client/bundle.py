"""All four services behind one object, sync or async, sharing one settings object."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterable, TypeVar

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

T = TypeVar("T")
R = TypeVar("R")


class FashionEditClient:
    """``client.generator.generate(...)``, ``client.editor.edit(...)``, ``client.analyzer``, ``client.scorer``."""

    def __init__(self, settings: ClientSettings | None = None, **overrides: Any) -> None:
        self.settings = (settings or ClientSettings()).model_copy(update=overrides) if overrides else (settings or ClientSettings())
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

    def __enter__(self) -> "FashionEditClient":
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
        return dict(zip(SERVICES, results))

    async def info(self) -> dict[str, ServiceInfo]:
        results = await asyncio.gather(*(client.info() for client in self.services().values()))
        return dict(zip(SERVICES, results))

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.services().values()))

    async def __aenter__(self) -> "AsyncFashionEditClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def bounded_map(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    concurrency: int,
    on_done: Callable[[T, R | BaseException], None] | None = None,
    return_exceptions: bool = False,
) -> list[R | BaseException]:
    """Run ``func`` over ``items`` with at most ``concurrency`` in flight; results in input order.

    Workers pull from a shared iterator, so 100,000 items never become 100,000
    pending tasks. ``on_done`` is called as each finishes (progress bars,
    persisting results as they arrive). With ``return_exceptions`` a failure is
    returned in its slot instead of cancelling the rest.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    indexed = list(enumerate(items))
    results: list[Any] = [None] * len(indexed)
    cursor = iter(indexed)

    async def worker() -> None:
        for index, item in cursor:
            try:
                result: Any = await func(item)
            except Exception as exc:  # noqa: BLE001 - handed back or re-raised below
                if not return_exceptions:
                    raise
                result = exc
            results[index] = result
            if on_done is not None:
                on_done(item, result)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(indexed)) or 0):
            group.create_task(worker())
    return results
