"""Typed clients, one per service, sync and async.

Each method takes the contract's request model, or its fields as keyword
arguments (images may then be PIL images, bytes, file paths or
:class:`ImagePayload`)::

    with GeneratorClient() as gen:
        draft = gen.generate(prompt="a white linen blazer", width=512, height=512, seed=7)
    async with AsyncEditorClient(max_concurrency=32) as editor:
        edited = await editor.edit(image=draft.images[0].image, instruction="make it navy")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from fashionedit.contracts import (
    AnalyzeRequest,
    AnalyzeResponse,
    EditRequest,
    EditResponse,
    GenerateRequest,
    GenerateResponse,
    ScorePair,
    ScoreRequest,
    ScoreResponse,
    ServiceInfo,
    image_payload,
)

from .settings import ClientSettings, ServiceName, split_urls
from .transport import AsyncTransport, SyncTransport


def _with_payloads(fields: dict[str, Any], singles: Sequence[str] = (), lists: Sequence[str] = ()) -> dict[str, Any]:
    out = dict(fields)
    for name in singles:
        if out.get(name) is not None:
            out[name] = image_payload(out[name])
    for name in lists:
        if out.get(name) is not None:
            out[name] = [image_payload(item) for item in out[name]]
    return out


def _request(
    model: type[BaseModel], request: Any, fields: dict[str, Any], singles: Sequence[str] = (), lists: Sequence[str] = ()
) -> Any:
    if request is not None and fields:
        raise TypeError("pass either a request model or keyword fields, not both")
    if request is None:
        return model(**_with_payloads(fields, singles, lists))
    if isinstance(request, dict):
        return model.model_validate(_with_payloads(request, singles, lists))
    if not isinstance(request, model):
        raise TypeError(f"expected {model.__name__}, got {type(request).__name__}")
    return request


def score_request(pairs: Iterable[Any] | None = None, request: ScoreRequest | None = None, **fields: Any) -> ScoreRequest:
    """A ScoreRequest from ``(generated, reference)`` or ``(id, generated, reference)`` tuples or ScorePairs."""
    if request is not None:
        return request
    items = []
    for pair in pairs or []:
        if isinstance(pair, ScorePair):
            items.append(pair)
        elif isinstance(pair, dict):
            items.append(ScorePair.model_validate(_with_payloads(pair, ("generated", "reference"))))
        elif len(pair) == 3:
            items.append(ScorePair(id=pair[0], generated=image_payload(pair[1]), reference=image_payload(pair[2])))
        else:
            items.append(ScorePair(generated=image_payload(pair[0]), reference=image_payload(pair[1])))
    return ScoreRequest(pairs=items, **fields)


class _SyncBase:
    service: ClassVar[ServiceName]

    def __init__(
        self, settings: ClientSettings | None = None, *, urls: Sequence[str] | str | None = None, http: httpx.Client | None = None
    ) -> None:
        settings = settings or ClientSettings()
        if urls is not None:
            settings = settings.model_copy(update={f"{self.service}_url": split_urls(urls)})
        self.settings = settings
        self.transport = SyncTransport(self.service, settings, client=http)

    @property
    def urls(self) -> list[str]:
        return self.transport.replicas.urls

    def info(self) -> ServiceInfo:
        return self.transport.post("/v1/info", {}, ServiceInfo, operation="info")

    def ready(self) -> bool:
        return self.transport.ready()

    def wait_ready(self, timeout_s: float = 120.0, interval_s: float = 0.5) -> None:
        import time

        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {self.service} at {', '.join(self.urls)} was not ready within {timeout_s:.0f}s")
            time.sleep(interval_s)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AsyncBase:
    service: ClassVar[ServiceName]

    def __init__(
        self,
        settings: ClientSettings | None = None,
        *,
        urls: Sequence[str] | str | None = None,
        http: httpx.AsyncClient | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        settings = settings or ClientSettings()
        if urls is not None:
            settings = settings.model_copy(update={f"{self.service}_url": split_urls(urls)})
        self.settings = settings
        self.transport = AsyncTransport(self.service, settings, client=http, max_concurrency=max_concurrency)

    @property
    def urls(self) -> list[str]:
        return self.transport.replicas.urls

    @property
    def max_concurrency(self) -> int:
        return self.transport.max_concurrency

    async def info(self) -> ServiceInfo:
        return await self.transport.post("/v1/info", {}, ServiceInfo, operation="info")

    async def ready(self) -> bool:
        return await self.transport.ready()

    async def wait_ready(self, timeout_s: float = 120.0, interval_s: float = 0.5) -> None:
        import asyncio
        import time

        deadline = time.monotonic() + timeout_s
        while not await self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {self.service} at {', '.join(self.urls)} was not ready within {timeout_s:.0f}s")
            await asyncio.sleep(interval_s)

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class GeneratorClient(_SyncBase):
    service = "generator"

    def generate(self, request: GenerateRequest | dict | None = None, **fields: Any) -> GenerateResponse:
        return self.transport.post(
            "/v1/generate", _request(GenerateRequest, request, fields), GenerateResponse, operation="generate"
        )


class EditorClient(_SyncBase):
    service = "editor"

    def edit(self, request: EditRequest | dict | None = None, **fields: Any) -> EditResponse:
        req = _request(EditRequest, request, fields, ("image",), ("references",))
        return self.transport.post("/v1/edit", req, EditResponse, operation="edit")


class AnalyzerClient(_SyncBase):
    service = "analyzer"

    def analyze(self, request: AnalyzeRequest | dict | None = None, **fields: Any) -> AnalyzeResponse:
        req = _request(AnalyzeRequest, request, fields, ("original", "generated"))
        return self.transport.post("/v1/analyze", req, AnalyzeResponse, operation="analyze")


class ScorerClient(_SyncBase):
    service = "scorer"

    def score(self, pairs: Iterable[Any] | None = None, *, request: ScoreRequest | None = None, **fields: Any) -> ScoreResponse:
        return self.transport.post("/v1/score", score_request(pairs, request, **fields), ScoreResponse, operation="score")


class AsyncGeneratorClient(_AsyncBase):
    service = "generator"

    async def generate(self, request: GenerateRequest | dict | None = None, **fields: Any) -> GenerateResponse:
        req = _request(GenerateRequest, request, fields)
        return await self.transport.post("/v1/generate", req, GenerateResponse, operation="generate")


class AsyncEditorClient(_AsyncBase):
    service = "editor"

    async def edit(self, request: EditRequest | dict | None = None, **fields: Any) -> EditResponse:
        req = _request(EditRequest, request, fields, ("image",), ("references",))
        return await self.transport.post("/v1/edit", req, EditResponse, operation="edit")


class AsyncAnalyzerClient(_AsyncBase):
    service = "analyzer"

    async def analyze(self, request: AnalyzeRequest | dict | None = None, **fields: Any) -> AnalyzeResponse:
        req = _request(AnalyzeRequest, request, fields, ("original", "generated"))
        return await self.transport.post("/v1/analyze", req, AnalyzeResponse, operation="analyze")


class AsyncScorerClient(_AsyncBase):
    service = "scorer"

    async def score(
        self, pairs: Iterable[Any] | None = None, *, request: ScoreRequest | None = None, **fields: Any
    ) -> ScoreResponse:
        return await self.transport.post("/v1/score", score_request(pairs, request, **fields), ScoreResponse, operation="score")
