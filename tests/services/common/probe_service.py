"""A minimal service built from the shared plumbing, so the plumbing is tested over real HTTP."""

from __future__ import annotations

import os
import time

import bentoml
from PIL import Image

from fashionedit.contracts import GeneratedImage, GenerateRequest, GenerateResponse, ImagePayload, ModelInfo
from fashionedit.services.common import BackgroundLoader, ServiceSettings, Stopwatch, UpstreamError
from fashionedit.services.common.binding import api, apply_policy, service_options

settings = ServiceSettings()


def _load() -> str:
    time.sleep(float(os.environ.get("PROBE_LOAD_S", "0")))
    return "probe-model"


@bentoml.service(**service_options(settings, name="probe"))
class Probe:
    def __init__(self) -> None:
        self.model = BackgroundLoader(_load, name="probe model", background=settings.load_in_background)

    def __is_ready__(self) -> bool:
        return self.model.ready

    @api(GenerateRequest, route="/v1/generate")
    def generate(self, request: GenerateRequest) -> GenerateResponse:
        self.model.get()
        watch = Stopwatch()
        if request.prompt == "upstream":
            raise UpstreamError("the provider answered without an image")
        if request.prompt == "crash":
            raise RuntimeError("secret-internal-detail")
        if request.prompt == "slow":
            time.sleep(1.5)
        image = ImagePayload.from_pil(Image.new("RGB", (request.width, request.height), (200, 10, 10)))
        return GenerateResponse(
            images=[GeneratedImage(image=image, seed=request.seed or 0)],
            model=ModelInfo(backend="probe", model_id="probe", offline=True),
            timings=watch.timings(),
        )


apply_policy(Probe, settings, name="probe")
