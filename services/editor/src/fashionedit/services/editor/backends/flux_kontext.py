"""``flux-kontext``: FLUX.1 Kontext (``black-forest-labs/FLUX.1-Kontext-dev``) through diffusers'
``FluxKontextPipeline``.

Kontext conditions on exactly one image. Vanilla sends the design. BUG (one reference) sends the
design and the reference *stitched side by side* on one canvas, the design on the left at its own
size, the reference scaled to the design's height on the right; the BUG prompt's "first image" and
"second reference image" read left to right. The design's part of the result is kept and the
reference's part dropped, and the response says so in ``warnings``. More than one reference is a
422 (the serving layer checks ``max_references``): a wider canvas shrinks the design below the
model's working area.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from .base import EditJob
from .open_edit import OpenEditBackend, fit_area

STITCH_WARNING = (
    "flux-kontext takes one image: the reference was stitched to the right of the design and only the design's part is returned"
)


def stitch(design: Image.Image, reference: Image.Image) -> Image.Image:
    """The design, then the reference scaled to the design's height, on one canvas."""
    width = max(1, round(reference.width * design.height / reference.height))
    canvas = Image.new("RGB", (design.width + width, design.height), (255, 255, 255))
    canvas.paste(design, (0, 0))
    canvas.paste(reference.resize((width, design.height), Image.Resampling.BICUBIC), (design.width, 0))
    return canvas


class FluxKontextBackend(OpenEditBackend):
    name = "flux-kontext"
    pipeline_class = "FluxKontextPipeline"
    default_steps = 28

    @property
    def max_references(self) -> int:
        return 1

    def weights_setting(self) -> tuple[str | None, str | None, str]:
        return self.settings.flux_kontext_model, self.settings.flux_kontext_revision, "FASHIONEDIT_EDITOR_FLUX_KONTEXT_MODEL"

    def run_pipeline(
        self, job: EditJob, design: Image.Image, references: list[Image.Image], work: tuple[int, int], generator: Any
    ) -> tuple[Image.Image, list[str]]:
        guidance = 2.5 if self.settings.open_edit_guidance is None else self.settings.open_edit_guidance
        warnings: list[str] = []
        image = design
        if references:
            image = stitch(design, references[0])
            warnings.append(STITCH_WARNING)
        # The whole canvas at the working area: the design's share of it is what the work size allows.
        canvas = (
            fit_area(image.size, self.settings.open_edit_max_area * image.width // design.width, self.multiple)
            if references
            else work
        )
        result = self.pipe(
            image=image.resize(canvas, Image.Resampling.BICUBIC),
            prompt=job.prompt,
            width=canvas[0],
            height=canvas[1],
            max_area=canvas[0] * canvas[1],
            _auto_resize=False,  # keep the design's aspect ratio: the result maps back onto it pixel for pixel
            guidance_scale=guidance,
            num_inference_steps=self.steps(),
            max_sequence_length=self.settings.flux_kontext_max_sequence_length,
            generator=generator,
        )
        edited = result.images[0]
        if references:
            share = round(edited.width * design.width / image.width)
            edited = edited.crop((0, 0, share, edited.height))
        return edited, warnings
