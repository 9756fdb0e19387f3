"""The editor's BentoML class: HTTP binding only (logic in ``serving.py``).

``bentoml serve fashionedit.services.editor.service:Editor`` -> ``POST /v1/edit``, ``POST /v1/info``.
"""

from __future__ import annotations

import bentoml

from fashionedit.contracts import EditRequest, EditResponse, InfoRequest, ServiceInfo
from fashionedit.services.common.asgi import current_request_id
from fashionedit.services.common.bento import bento_options
from fashionedit.services.common.binding import api, apply_policy, service_options

from .serving import EditorServing
from .settings import EditorSettings

settings = EditorSettings()
# A GPU for the local backend only; the OpenAI backends wait on the provider. How it ships as a Bento:
shipping = bento_options(gpu=settings.backend == "local", concurrency=settings.max_concurrency)


@bentoml.service(**service_options(settings, name="editor", **shipping))
class Editor:
    def __init__(self) -> None:
        self.serving = EditorServing(settings)

    def __is_ready__(self) -> bool:
        return self.serving.ready

    @api(EditRequest, route="/v1/edit")
    async def edit(self, request: EditRequest) -> EditResponse:
        return await self.serving.edit(request, request_id=current_request_id())

    @api(InfoRequest, route="/v1/info")
    def info(self, request: InfoRequest) -> ServiceInfo:
        return self.serving.info()

    @bentoml.on_shutdown
    async def close(self) -> None:
        await self.serving.aclose()


apply_policy(Editor, settings, name="editor")
