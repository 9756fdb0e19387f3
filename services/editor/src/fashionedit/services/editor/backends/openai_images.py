"""``openai-images``: ``images.edit`` (gpt-image-1) with several input images and a mask from the box.

Images go in as ``image[]`` parts in the paper's order (current design first, then the
references); the mask, when a target box is given, is transparent over the box and sized like the
first image, as the API requires.
"""

from __future__ import annotations

from typing import Any

from fashionedit.contracts import ImagePayload, ModelInfo, Usage
from fashionedit.services.common import UpstreamError

from .base import EditJob, EditResult
from .openai_common import OpenAIBackend, box_mask_png, decode_result_image

_EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def as_file(payload: ImagePayload, stem: str) -> tuple[str, bytes, str]:
    return (f"{stem}.{_EXT[payload.format]}", payload.to_bytes(), payload.media_type)


class OpenAIImagesBackend(OpenAIBackend):
    name = "openai-images"

    def model_info(self) -> ModelInfo:
        return self._model_info(self.settings.images_model)

    async def edit(self, job: EditJob) -> EditResult:
        files = [as_file(job.image, "image")] + [as_file(ref, f"reference-{i + 1}") for i, ref in enumerate(job.references)]
        kwargs: dict[str, Any] = dict(self.tool_options(job))
        if job.target_box is not None:
            kwargs["mask"] = ("mask.png", box_mask_png(job.target_box, job.image.size), "image/png")
        async with self.calling(job) as client:
            response = await client.images.edit(
                model=self.settings.images_model,
                image=files,
                prompt=job.prompt,
                n=1,
                extra_headers=self.request_headers(job),
                **kwargs,
            )
            data = getattr(response, "data", None)
            if not data:
                raise UpstreamError("the provider answered without an image (empty data); retry or rephrase the instruction")
            image = decode_result_image(data[0].b64_json, "images.edit result")
            revised = getattr(data[0], "revised_prompt", None)
        usage = None
        u = getattr(response, "usage", None)
        if u is not None:
            usage = Usage(
                input_tokens=u.input_tokens, output_tokens=u.output_tokens, total_tokens=u.total_tokens, images=len(data)
            )
        return EditResult(
            image=image,
            prompt=job.prompt,
            model=self.model_info(),
            usage=usage,
            revised_prompt=revised,
            target_box=job.target_box,
        )
