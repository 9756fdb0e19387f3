"""``qwen-edit``: Qwen-Image-Edit-Plus (``Qwen/Qwen-Image-Edit-2509`` and later) through diffusers'
``QwenImageEditPlusPipeline``.

The model reads several images plus an instruction, so both of the paper's prompts map directly:
Vanilla sends the design alone, BUG sends the design then the references in the request's order
("Picture 1" is the design, as the BUG prompt's "first image"). The published model is tuned for
one to three input images, hence a default of two references (``QWEN_EDIT_MAX_REFERENCES``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from .base import EditJob
from .open_edit import OpenEditBackend


@contextmanager
def _vae_area(area: int | None) -> Iterator[None]:
    """The pipeline encodes every input image at a fixed 1024x1024 area (a module constant); a
    smaller one makes small designs cheap. Only ever changed inside the backend's pipeline lock."""
    if area is None:
        yield
        return
    from diffusers.pipelines.qwenimage import pipeline_qwenimage_edit_plus as module

    saved = module.VAE_IMAGE_SIZE
    module.VAE_IMAGE_SIZE = area
    try:
        yield
    finally:
        module.VAE_IMAGE_SIZE = saved


class QwenEditBackend(OpenEditBackend):
    name = "qwen-edit"
    pipeline_class = "QwenImageEditPlusPipeline"
    default_steps = 40  # the model card's

    @property
    def max_references(self) -> int:
        return self.settings.qwen_edit_max_references

    def weights_setting(self) -> tuple[str | None, str | None, str]:
        return self.settings.qwen_edit_model, self.settings.qwen_edit_revision, "FASHIONEDIT_EDITOR_QWEN_EDIT_MODEL"

    def run_pipeline(
        self, job: EditJob, design: Image.Image, references: list[Image.Image], work: tuple[int, int], generator: Any
    ) -> tuple[Image.Image, list[str]]:
        guidance = 4.0 if self.settings.open_edit_guidance is None else self.settings.open_edit_guidance
        with _vae_area(self.settings.qwen_edit_vae_area):
            result = self.pipe(
                image=[design, *references],
                prompt=job.prompt,
                negative_prompt=" ",  # true CFG needs a negative prompt; the model card uses a blank one
                true_cfg_scale=guidance,
                width=work[0],
                height=work[1],
                num_inference_steps=self.steps(),
                generator=generator,
            )
        return result.images[0], []
