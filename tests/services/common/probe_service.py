"""A minimal service built from the shared plumbing, so the plumbing is tested over real HTTP."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import bentoml
from PIL import Image

from fashionedit.contracts import GeneratedImage, GenerateRequest, GenerateResponse, ImagePayload, ModelInfo
from fashionedit.services.common import BackgroundLoader, ServiceSettings, Stopwatch, UpstreamError
from fashionedit.services.common.binding import api, apply_policy, service_options
from fashionedit.services.common.deadline import check_deadline

settings = ServiceSettings()
log = logging.getLogger("fashionedit.probe")


def _token() -> str:
    return settings.api_token.get_secret_value() if settings.api_token else "no-token"


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
        if request.prompt == "leak-error":  # a provider echoing the key it was sent
            raise UpstreamError(f"Incorrect API key provided: {_token()}; masked {_token()[:3]}********{_token()[-4:]}")
        if request.prompt == "busy":  # work in steps, as the analyzer's re-asks are: each step checks the budget
            steps = Path(os.environ["PROBE_WORK_FILE"])
            for step in range(100):
                check_deadline()
                with steps.open("a") as handle:
                    handle.write(f"{step}\n")
                time.sleep(0.1)
        log.info("prompt was %s", request.prompt)
        image = ImagePayload.from_pil(Image.new("RGB", (request.width, request.height), (200, 10, 10)))
        return GenerateResponse(
            images=[GeneratedImage(image=image, seed=request.seed or 0)],
            model=ModelInfo(backend="probe", model_id=f"probe {_token()}" if request.prompt == "leak" else "probe", offline=True),
            warnings=[f"the provider said {_token()}"] if request.prompt == "leak" else [],
            timings=watch.timings(),
        )


apply_policy(Probe, settings, name="probe")
