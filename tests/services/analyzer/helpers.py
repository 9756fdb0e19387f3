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


def assert_crop_shows_box(original: Image.Image, difference, *, readable: bool = False) -> None:
    """A difference's crop is the original's pixels inside its box (the default, the paper's reference crop), or with
    ``readable`` those of its readable window (``geometry.crop_window``: at least ``MIN_CROP_SIDE``/``MIN_CROP_SHARE``
    on each side, clamped to the image), with the tight box's pixels in place."""
    import numpy as np

    from fashionedit.services.analyzer import geometry

    original = original.convert("RGB")
    crop = np.asarray(difference.crop.to_pil().convert("RGB"))
    width, height = original.size
    if not readable:
        assert np.array_equal(crop, np.asarray(original.crop(tuple(difference.box_2d.to_pixels(width, height)))))
        return
    minimum = max(geometry.MIN_CROP_SIDE, round(geometry.MIN_CROP_SHARE * min(width, height)))
    assert crop.shape[1] >= min(minimum, width) and crop.shape[0] >= min(minimum, height), (crop.shape, difference.box_2d)
    window = geometry.crop_window(difference.box_2d, width, height)
    assert np.array_equal(crop, np.asarray(original.crop(tuple(window))))
    tight = difference.box_2d.to_pixels(width, height)
    inner = crop[tight.y0 - window.y0 : tight.y1 - window.y0, tight.x0 - window.x0 : tight.x1 - window.x0]
    assert np.array_equal(inner, np.asarray(original.crop(tuple(tight))))
