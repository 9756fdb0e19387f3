"""The generator's HTTP binding: ``POST /v1/generate``, ``POST /v1/info``, BentoML's health routes.

Serve with ``bentoml serve fashionedit.services.generator.service:Generator``;
settings come from ``FASHIONEDIT_GENERATOR_*`` (see docs/generator.md).
"""

from __future__ import annotations

import bentoml

from fashionedit.contracts import GenerateRequest, GenerateResponse, InfoRequest, ServiceInfo
from fashionedit.services.common.bento import bento_options
from fashionedit.services.common.binding import api, apply_policy, service_options

from .serving import GeneratorServing
from .settings import GeneratorSettings

settings = GeneratorSettings()
# A GPU for the SD pipelines; flats and tiny run on a CPU. How it ships as a Bento:
shipping = bento_options(gpu=settings.backend in ("sd3", "sd2"), concurrency=settings.max_concurrency)


@bentoml.service(**service_options(settings, name="generator", **shipping))
class Generator:
    def __init__(self) -> None:
        self.serving = GeneratorServing(settings)

    def __is_ready__(self) -> bool:
        return self.serving.ready

    @api(GenerateRequest, route="/v1/generate")
    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        return await self.serving.agenerate(request)

    @api(InfoRequest, route="/v1/info")
    async def info(self, request: InfoRequest) -> ServiceInfo:
        return self.serving.info()


apply_policy(Generator, settings, name="generator")
