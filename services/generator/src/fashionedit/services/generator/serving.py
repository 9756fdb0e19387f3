"""Generator logic: GenerateRequest -> GenerateResponse, independent of BentoML.

The backend loads once, in the background (:class:`BackgroundLoader`), and
every generation goes through one :class:`MicroBatcher` worker. PNG encoding
runs outside that worker, so the pipeline starts the next batch while the
previous images are being encoded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import sys
from collections.abc import Sequence

from PIL import Image

from fashionedit.contracts import GeneratedImage, GenerateRequest, GenerateResponse, ImagePayload, ServiceInfo
from fashionedit.contracts.generate import MAX_IMAGES_PER_REQUEST, MAX_SEED, MAX_SIDE, MIN_SIDE, SIDE_MULTIPLE
from fashionedit.services.common import BackgroundLoader, Overloaded, ServiceError, Stopwatch, Unavailable

from . import __version__
from .backends import BACKENDS, GeneratorBackend, ImageJob, RenderSettings, load_backend
from .batching import BatchStats, MicroBatcher, QueueFull
from .settings import GeneratorSettings


def image_seeds(seed: int | None, count: int) -> list[int]:
    """Image i gets ``seed + i``: one request's images differ, and any one can be re-made alone."""
    base = secrets.randbelow(MAX_SEED + 1) if seed is None else seed
    return [(base + i) % (MAX_SEED + 1) for i in range(count)]


def available_backends() -> list[str]:
    """Backends whose dependencies are installed in this deployment."""
    has_diffusers = all(importlib.util.find_spec(mod) is not None for mod in ("torch", "diffusers", "transformers"))
    has_flats = importlib.util.find_spec("fashionedit.flats") is not None
    return [name for name in BACKENDS if (has_flats if name == "flats" else has_diffusers)]


def _out_of_memory(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)


class GeneratorServing:
    def __init__(self, settings: GeneratorSettings) -> None:
        self.settings = settings
        self.model: BackgroundLoader[GeneratorBackend] = BackgroundLoader(
            lambda: load_backend(settings), name=f"generator backend '{settings.backend}'", background=settings.load_in_background
        )
        self.batcher = MicroBatcher(
            self._run,
            max_batch_images=settings.max_batch_images,
            wait_s=settings.batch_wait_ms / 1000.0,
            name="generator",
            max_queued_images=settings.max_queued_images,
        )

    @property
    def ready(self) -> bool:
        return self.model.ready

    def _run(self, settings: RenderSettings, jobs: Sequence[ImageJob]) -> list[Image.Image]:
        return self.model.get().generate(settings, jobs)

    # -- request handling -------------------------------------------------------------
    def _prepare(self, request: GenerateRequest) -> tuple[GeneratorBackend, RenderSettings, list[ImageJob]]:
        backend = self.model.get()  # NotReady (503) while loading or after a failed load
        render = RenderSettings(width=request.width, height=request.height, steps=request.steps, guidance=float(request.guidance))
        backend.check(render)
        jobs = [ImageJob(request.prompt, request.negative_prompt, seed) for seed in image_seeds(request.seed, request.num_images)]
        return backend, render, jobs

    def _respond(
        self,
        request: GenerateRequest,
        backend: GeneratorBackend,
        jobs: list[ImageJob],
        images: list[Image.Image],
        stats: BatchStats,
        watch: Stopwatch,
    ) -> GenerateResponse:
        with watch.stage("encode"):
            payloads = [ImagePayload.from_pil(image) for image in images]
        truncation = backend.prompt_truncation(request.prompt)
        watch.stages["queue"] = stats.queue_ms
        watch.stages["generate"] = stats.generate_ms
        return GenerateResponse(
            images=[GeneratedImage(image=payload, seed=job.seed) for payload, job in zip(payloads, jobs, strict=True)],
            model=backend.model_info,
            timings=watch.timings(),
            prompt_truncation=truncation,
            warnings=backend.warnings(request.prompt, request.negative_prompt, truncation),
        )

    def generate(self, request: GenerateRequest) -> GenerateResponse:
        """Blocking form (in-process callers and tests)."""
        watch = Stopwatch()
        backend, render, jobs = self._prepare(request)
        try:
            images, stats = self._submit(render, jobs).result()
        except BaseException as exc:
            raise self._translate(exc) from exc
        return self._respond(request, backend, jobs, images, stats, watch)

    async def agenerate(self, request: GenerateRequest) -> GenerateResponse:
        """Event-loop form: waits on the worker without holding a thread, encodes PNGs in a thread."""
        watch = Stopwatch()
        backend, render, jobs = self._prepare(request)
        try:
            # Cancelling this wait (time budget spent, caller gone) cancels the future: the batcher drops the work.
            images, stats = await asyncio.wrap_future(self._submit(render, jobs))
        except BaseException as exc:
            raise self._translate(exc) from exc
        return await asyncio.to_thread(self._respond, request, backend, jobs, images, stats, watch)

    def _submit(self, render: RenderSettings, jobs: list[ImageJob]):
        try:
            return self.batcher.submit(render, jobs)
        except QueueFull as exc:
            raise Overloaded(
                f"the generator has {exc.queued} images queued (limit {self.settings.max_queued_images}); retry shortly",
                retry_after=1,
            ) from None

    @staticmethod
    def _translate(exc: BaseException) -> BaseException:
        if isinstance(exc, ServiceError):
            return exc
        if _out_of_memory(exc):
            return Unavailable(
                "the GPU ran out of memory for this batch; retry with fewer images or a smaller size "
                "(or lower FASHIONEDIT_GENERATOR_MAX_BATCH_IMAGES)",
                retry_after=5,
            )
        return exc

    # -- /v1/info ---------------------------------------------------------------------
    def info(self) -> ServiceInfo:
        ready = self.model.ready
        backend = self.model.get() if ready else None
        if ready:
            message = None
        elif self.model.error is not None:
            message = f"backend '{self.settings.backend}' failed to load: {self.model.error}"
        else:
            message = f"backend '{self.settings.backend}' is loading"
        return ServiceInfo(
            service="generator",
            version=__version__,
            ready=ready,
            model=backend.model_info if backend else None,
            backends=available_backends(),
            limits={
                "min_side": MIN_SIDE,
                "max_side": backend.max_side if backend else MAX_SIDE,
                "side_multiple": SIDE_MULTIPLE,
                "max_images": MAX_IMAGES_PER_REQUEST,
                "max_batch_images": self.settings.max_batch_images,
                "max_queued_images": self.settings.max_queued_images,
                "timeout_s": self.settings.timeout_s,
                "max_concurrency": self.settings.max_concurrency,
            },
            message=message,
        )
