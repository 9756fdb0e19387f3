"""The analyzer as a BentoML service: HTTP binding only (logic in serving.py)."""

from __future__ import annotations

import bentoml

from fashionedit.contracts import AnalyzeRequest, AnalyzeResponse, InfoRequest, ServiceInfo
from fashionedit.services.common import BackgroundLoader
from fashionedit.services.common.bento import bento_options
from fashionedit.services.common.binding import api, apply_policy, service_options

from .serving import VERSION, AnalyzerServing
from .settings import AnalyzerSettings

settings = AnalyzerSettings()
shipping = bento_options(gpu=False, concurrency=settings.max_concurrency)  # how it ships as a Bento


@bentoml.service(**service_options(settings, name="analyzer", **shipping))
class Analyzer:
    def __init__(self) -> None:
        self.serving = BackgroundLoader(
            lambda: AnalyzerServing(settings), name="analyzer backends", background=settings.load_in_background
        )

    def __is_ready__(self) -> bool:
        return self.serving.ready

    @api(AnalyzeRequest, route="/v1/analyze")
    def analyze(self, request: AnalyzeRequest) -> AnalyzeResponse:
        return self.serving.get().analyze(request)

    @api(InfoRequest, route="/v1/info")
    def info(self, request: InfoRequest) -> ServiceInfo:
        if not self.serving.ready:
            error = self.serving.error
            return ServiceInfo(
                service="analyzer", version=VERSION, ready=False, message=f"loading failed: {error}" if error else "loading"
            )
        return self.serving.get().info()


apply_policy(Analyzer, settings, name="analyzer")
