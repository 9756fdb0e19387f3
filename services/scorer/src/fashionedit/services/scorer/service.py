"""The scorer's BentoML class: HTTP binding only (logic lives in ``serving.py``).

Run: ``bentoml serve fashionedit.services.scorer.service:Scorer --port 3004``.
"""

from __future__ import annotations

import asyncio

import bentoml

from fashionedit.contracts import InfoRequest, ServiceInfo
from fashionedit.contracts.score import ScoreRequest, ScoreResponse
from fashionedit.services.common.bento import bento_options
from fashionedit.services.common.binding import api, apply_policy, service_options

from .serving import ScorerServing
from .settings import ScorerSettings

settings = ScorerSettings()
shipping = bento_options(gpu=False, concurrency=settings.max_concurrency * settings.workers)  # how it ships as a Bento


@bentoml.service(**service_options(settings, name="scorer", workers=settings.workers, **shipping))
class Scorer:
    def __init__(self) -> None:
        self.serving = ScorerServing(settings)

    def __is_ready__(self) -> bool:
        return self.serving.ready

    @api(ScoreRequest, route="/v1/score")
    async def score(self, request: ScoreRequest) -> ScoreResponse:
        # Decoding runs in the serving's thread pool and forwards in its batcher thread, so
        # concurrent requests overlap; the event loop only waits.
        return await asyncio.to_thread(self.serving.score, request)

    @api(InfoRequest, route="/v1/info")
    def info(self, request: InfoRequest) -> ServiceInfo:
        return self.serving.info()


apply_policy(Scorer, settings, name="scorer")
