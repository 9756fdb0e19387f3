"""``openai-vlm``: an open VLM behind an OpenAI-compatible server (e.g. vLLM serving Qwen2.5-VL / Qwen3-VL).

Open VLMs are trained on their own grounding format, so this backend asks in that format and
converts the answer to ``box_2d``:

* Qwen2.5-VL (``xy_pixels``): ``{"bbox_2d": [x1, y1, x2, y2], "label": ...}`` in absolute pixels of
  the image *as the model saw it*, i.e. after the image processor's ``smart_resize`` (sides rounded
  to multiples of 28, area within ``[min_pixels, max_pixels]``). The reference size is computed
  with the same rule from the original's size and the configured factor/min/max pixels, which
  must match the server's processor settings; ``vlm_reference_size=original`` uses the
  original's own size instead (for servers that report pixels of the image sent).
* Qwen3-VL (``xy1000``): ``[x1, y1, x2, y2]`` normalised to 0-1000.
* ``yx1000``: the paper's ``box_2d`` (for models prompted like gpt-4.1-mini).
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from fashionedit.contracts import BoxConvention, ImagePayload

from ..geometry import smart_resize
from ..settings import AnalyzerSettings
from .openai_protocol import ChatDifferenceBackend, data_url, make_client

_COORDINATES = {
    BoxConvention.XY_PIXELS: ("bbox_2d", "[x1, y1, x2, y2] in pixel coordinates of the first image"),
    BoxConvention.XY_1000: ("bbox_2d", "[x1, y1, x2, y2] with coordinates normalized to 0-1000"),
    BoxConvention.YX_1000: ("box_2d", "[ymin, xmin, ymax, xmax] normalized to 0-1000"),
    BoxConvention.YX_PIXELS: ("box_2d", "[ymin, xmin, ymax, xmax] in pixel coordinates of the first image"),
    BoxConvention.XY_UNIT: ("bbox_2d", "[x1, y1, x2, y2] with coordinates normalized to 0-1"),
    BoxConvention.YX_UNIT: ("box_2d", "[ymin, xmin, ymax, xmax] normalized to 0-1"),
}

VLM_PROMPT = (
    "The first image is the original garment; the second image is a generated design of it. "
    "Find the {k} most important differences in the clothes between the two images. "
    "For each difference, describe only what the first image shows (what the design should change to match it), "
    "and locate that region in the first image. "
    'Output JSON: a list of {"{key}": {coordinates}, "label": "<description>"}.'
)


class OpenAIVLMBackend(ChatDifferenceBackend):
    name = "openai-vlm"
    provider = "the VLM server"

    def __init__(self, settings: AnalyzerSettings, client: Any | None = None) -> None:
        if client is None and not settings.vlm_base_url:
            raise ValueError("openai-vlm needs FASHIONEDIT_ANALYZER_VLM_BASE_URL (e.g. http://vllm:8000/v1)")
        super().__init__(
            client=client
            or make_client(
                base_url=settings.vlm_base_url,
                api_key=settings.vlm_key() or "EMPTY",  # vLLM without --api-key accepts any key
                timeout_s=settings.request_timeout_s,
                max_retries=settings.max_retries,
            ),
            model=settings.vlm_model,
            temperature=settings.vlm_temperature,
            reask_attempts=settings.reask_attempts,
            timeout_s=settings.request_timeout_s,
        )
        self.settings = settings
        self.convention = settings.vlm_box_convention
        self.key, self.coordinates = _COORDINATES[self.convention]
        self.template = settings.vlm_prompt or VLM_PROMPT

    def prompt(self, k: int) -> str:
        # Plain replacement, not str.format: prompts are full of JSON braces.
        return self.template.replace("{k}", str(k)).replace("{key}", self.key).replace("{coordinates}", self.coordinates)

    def messages(
        self, original: ImagePayload | Image.Image, generated: ImagePayload | Image.Image, k: int
    ) -> list[dict[str, Any]]:
        return [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": data_url(original)}},
                    {"type": "image_url", "image_url": {"url": data_url(generated)}},
                    {"type": "text", "text": self.prompt(k)},
                ],
            }
        ]

    def response_format(self, k: int) -> dict[str, Any] | None:
        return {"type": "json_object"} if self.settings.vlm_response_format == "json_object" else None

    def reference_size(self, original_size: tuple[int, int]) -> tuple[int, int]:
        if self.settings.vlm_reference_size == "original":
            return original_size
        return smart_resize(
            *original_size,
            factor=self.settings.vlm_patch_factor,
            min_pixels=self.settings.vlm_min_pixels,
            max_pixels=self.settings.vlm_max_pixels,
        )

    def box_reading(self, original_size: tuple[int, int]) -> tuple[BoxConvention, tuple[int, int]]:
        pixels = self.convention in (BoxConvention.XY_PIXELS, BoxConvention.YX_PIXELS)
        return self.convention, self.reference_size(original_size) if pixels else original_size

    def reask_message(self, reason: str, k: int) -> str:
        return (
            f"Your answer could not be read: {reason}. Answer again with only JSON: a list of {k} item(s) "
            f'{{"{self.key}": {self.coordinates}, "label": "<description>"}}.'
        )
