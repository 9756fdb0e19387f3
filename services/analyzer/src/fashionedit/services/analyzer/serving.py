"""Plain analyzer logic: AnalyzeRequest -> AnalyzeResponse (no BentoML here)."""

from __future__ import annotations

from PIL import Image

from fashionedit.contracts import AnalyzeRequest, AnalyzeResponse, Difference, ImageDecodeError, ImagePayload, ServiceInfo
from fashionedit.contracts.analyze import MAX_K
from fashionedit.services.common import InvalidInput, Stopwatch

from .backends import AnalyzerBackend, ImagePair, create_backend
from .geometry import crop_original, draw_boxes
from .settings import AnalyzerSettings

VERSION = "0.1.0"


class Backends:
    """The configured backend plus the extra ones a request may pick; built once at start-up."""

    def __init__(self, settings: AnalyzerSettings) -> None:
        self.default = settings.backend
        self.by_name: dict[str, AnalyzerBackend] = {settings.backend: create_backend(settings.backend, settings)}
        for name in settings.extra_backends:
            if name not in self.by_name:
                self.by_name[name] = create_backend(name, settings)

    def get(self, name: str | None) -> AnalyzerBackend:
        name = name or self.default
        try:
            return self.by_name[name]
        except KeyError:
            raise InvalidInput.at(
                ["backend"],
                f"backend {name!r} is not enabled here; enabled: {sorted(self.by_name)} (FASHIONEDIT_ANALYZER_EXTRA_BACKENDS)",
            ) from None

    def close(self) -> None:
        for backend in self.by_name.values():
            backend.close()


class AnalyzerServing:
    def __init__(self, settings: AnalyzerSettings, backends: Backends | None = None) -> None:
        self.settings = settings
        self.backends = backends or Backends(settings)

    def analyze(self, request: AnalyzeRequest) -> AnalyzeResponse:
        # The contract bounds k already; this guards requests built with model_construct.
        if not 1 <= request.k <= MAX_K:
            raise InvalidInput.at(["k"], f"k must be between 1 and {MAX_K}, got {request.k}")
        backend = self.backends.get(request.backend)
        watch = Stopwatch()
        with watch.stage("decode"):
            original = _decode(request.original, "original")
            generated = _decode(request.generated, "generated")
        pair = ImagePair(original, generated, request.original, request.generated)
        result = backend.analyze(pair, request.k, watch)

        differences = []
        with watch.stage("crops"):
            for item in result.differences:
                crop = (
                    ImagePayload.from_pil(crop_original(original, item.box, readable=request.crop_window == "readable"))
                    if request.include_crops
                    else None
                )
                differences.append(Difference(description=item.description, box_2d=item.box, crop=crop))
        annotated = None
        if request.include_annotated:
            with watch.stage("annotate"):
                annotated = ImagePayload.from_pil(draw_boxes(original, [d.box_2d for d in differences]))
        return AnalyzeResponse(
            differences=differences,
            repairs=result.repairs,
            annotated=annotated,
            raw_text=result.raw_text if request.include_raw else None,
            size_rule=result.size_rule,
            attempts=result.attempts,
            model=backend.model_info(),
            timings=watch.timings(),
            usage=result.usage,
        )

    def info(self, ready: bool = True, message: str | None = None) -> ServiceInfo:
        return ServiceInfo(
            service="analyzer",
            version=VERSION,
            ready=ready,
            model=self.backends.get(None).model_info(),
            backends=sorted(self.backends.by_name),
            limits={"max_k": MAX_K, "reask_attempts": self.settings.reask_attempts},
            message=message,
        )

    def close(self) -> None:
        self.backends.close()


def _decode(payload: ImagePayload, field: str) -> Image.Image:
    try:
        return payload.to_pil()
    except ImageDecodeError as exc:
        raise InvalidInput.at([field], f"{field}: {exc}") from exc
