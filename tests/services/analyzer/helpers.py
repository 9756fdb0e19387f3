"""Small images and settings for the analyzer tests."""

from __future__ import annotations

import hashlib

from PIL import Image, ImageDraw

from fashionedit.contracts import ImagePayload
from fashionedit.services.analyzer.settings import AnalyzerSettings


def flat_pair(size: tuple[int, int] = (64, 96)) -> tuple[Image.Image, Image.Image]:
    """A navy garment with a red pocket (original) vs the same garment without it (generated)."""
    width, height = size
    original = Image.new("RGB", size, (245, 245, 245))
    draw = ImageDraw.Draw(original)
    draw.rectangle((width // 4, height // 8, 3 * width // 4, 7 * height // 8), fill=(30, 40, 88))
    generated = original.copy()
    draw.rectangle((width // 4 + 4, height // 4, width // 2, height // 4 + height // 6), fill=(196, 32, 40))
    return original, generated


def payload(image: Image.Image) -> ImagePayload:
    return ImagePayload.from_pil(image)


def sha256(payload: ImagePayload) -> str:
    return hashlib.sha256(payload.to_bytes()).hexdigest()


def settings_for(server, **overrides) -> AnalyzerSettings:
    """Settings pointing both OpenAI-protocol backends at the local OpenAI-protocol server."""
    values = dict(
        backend="openai-chat",
        extra_backends=["classical", "openai-vlm"],
        openai_base_url=server.base_url,
        openai_api_key=server.api_key,
        vlm_base_url=server.base_url,
        vlm_api_key=server.api_key,
        max_retries=0,
        request_timeout_s=10.0,
    )
    values.update(overrides)
    return AnalyzerSettings(**values)
