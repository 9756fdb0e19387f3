"""The editing gateway's logic: request -> validated job -> backend -> response (no BentoML here)."""

from __future__ import annotations

import asyncio
import logging
from importlib import metadata

from fashionedit.contracts import EditRequest, EditResponse, ImagePayload, ServiceInfo
from fashionedit.contracts.edit import compose_prompt
from fashionedit.services.common import BackgroundLoader, InvalidInput, Stopwatch

from .backends import EditBackend, EditJob, create_backend
from .settings import EditorSettings

log = logging.getLogger("fashionedit.editor")


def _version() -> str:
    try:
        return metadata.version("fashionedit-editor")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build_prompt(settings: EditorSettings, instruction: str, with_references: bool) -> str:
    """The paper's prompt (or the configured one) followed by the instruction."""
    template = settings.bug_prompt if with_references else settings.vanilla_prompt
    return compose_prompt(template, instruction, settings.prompt_separator)


class EditorServing:
    """Owns the configured backends; each is loaded once (in the background unless told otherwise)."""

    def __init__(self, settings: EditorSettings | None = None, *, background: bool | None = None) -> None:
        self.settings = settings or EditorSettings()
        background = self.settings.load_in_background if background is None else background
        self.backends: dict[str, EditBackend] = {name: create_backend(name, self.settings) for name in self.settings.backends}
        self.loaders = {
            name: BackgroundLoader(self._loader(backend), name=f"editor backend {name}", background=background)
            for name, backend in self.backends.items()
        }

    @staticmethod
    def _loader(backend: EditBackend):
        def load() -> EditBackend:
            backend.load()
            return backend

        return load

    @property
    def ready(self) -> bool:
        return all(loader.ready for loader in self.loaders.values())

    def wait(self, timeout: float | None = None) -> bool:
        return all(loader.wait(timeout) for loader in self.loaders.values()) and self.ready

    # -- validation ------------------------------------------------------------------------------
    def pick_backend(self, request: EditRequest) -> EditBackend:
        name = request.backend or self.settings.backend
        if name not in self.loaders:
            allowed = ", ".join(self.loaders)
            raise InvalidInput.at(
                ["backend"],
                f"backend {name!r} is not enabled here; choose one of: {allowed} (see FASHIONEDIT_EDITOR_ALLOWED_BACKENDS)",
            )
        return self.loaders[name].get()

    def check_inputs(self, request: EditRequest, backend: EditBackend) -> None:
        if request.image is None:
            raise InvalidInput.at(["image"], "image is required: send the current design as base64 PNG, JPEG or WebP")
        references = list(request.references or [])
        if len(references) > backend.max_references:
            raise InvalidInput.at(
                ["references"],
                f"{len(references)} references sent but backend {backend.name!r} accepts at most {backend.max_references}",
            )
        for i, ref in enumerate(references):
            self._check_reference(i, ref)
        # Decode every image now: a truncated file is the caller's to fix, and must not reach a paid API.
        located: list[tuple[list[str | int], ImagePayload]] = [(["image"], request.image)]
        located += [(["references", i], r) for i, r in enumerate(references)]
        for loc, payload in located:
            try:
                payload.to_pil()
            except ValueError as exc:
                raise InvalidInput.at(loc, f"{'.'.join(map(str, loc))}: {exc}") from exc

    def _check_reference(self, index: int, ref: ImagePayload) -> None:
        width, height = ref.size
        raw_size = len(ref.to_bytes())
        if raw_size > self.settings.max_reference_bytes:
            raise InvalidInput.at(
                ["references", index],
                f"references.{index} is {raw_size} bytes, over the {self.settings.max_reference_bytes} byte limit; send a "
                "smaller crop",
            )
        if width * height > self.settings.max_reference_pixels:
            raise InvalidInput.at(
                ["references", index],
                f"references.{index} is {width}x{height} ({width * height} pixels), over the "
                f"{self.settings.max_reference_pixels} "
                "pixel limit; downscale it",
            )

    # -- the edit --------------------------------------------------------------------------------
    async def edit(self, request: EditRequest, *, request_id: str | None = None) -> EditResponse:
        watch = Stopwatch()
        backend = self.pick_backend(request)
        with watch.stage("validate"):
            # Decoding is CPU work: in a thread, so /readyz and other requests never wait on it.
            await asyncio.to_thread(self.check_inputs, request, backend)
        references = list(request.references or [])
        job = EditJob(
            image=request.image,
            instruction=request.instruction,
            prompt=build_prompt(self.settings, request.instruction, bool(references)),
            references=references,
            target_box=request.target_box,
            seed=request.seed,
            size=request.size,
            quality=request.quality,
            input_fidelity=request.input_fidelity,
            request_id=request_id,
            watch=watch,
        )
        result = await backend.edit(job)
        return EditResponse(
            image=result.image,
            mode=job.mode,
            prompt=result.prompt,
            model=result.model,
            timings=watch.timings(),
            usage=result.usage,
            revised_prompt=result.revised_prompt,
            target_box=result.target_box,
            warnings=result.warnings,
            request_id=request_id,
        )

    def info(self) -> ServiceInfo:
        default = self.backends[self.settings.backend]
        message = None
        if not self.ready:
            problems = [f"{name}: {loader.error}" for name, loader in self.loaders.items() if loader.error is not None]
            message = "; ".join(problems) if problems else "loading"
        return ServiceInfo(
            service="editor",
            version=_version(),
            ready=self.ready,
            model=default.model_info() if self.loaders[self.settings.backend].ready else None,
            backends=list(self.backends),
            limits={
                "max_references": {name: b.max_references for name, b in self.backends.items()},
                "max_reference_pixels": self.settings.max_reference_pixels,
                "max_reference_bytes": self.settings.max_reference_bytes,
                "openai_max_concurrency": self.settings.openai_max_concurrency,
            },
            message=message,
        )

    async def aclose(self) -> None:
        for name, loader in self.loaders.items():
            if loader.ready:
                await self.backends[name].aclose()
