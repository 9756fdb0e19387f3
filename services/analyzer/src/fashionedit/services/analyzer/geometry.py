"""Image geometry the analyzer shares: the size rule, crops, the annotated original, VLM input sizes."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from fashionedit.contracts import Box2D

# Why stretching (not letterboxing): box_2d is normalised per axis, so a box means the same
# relative region in both images only when each axis is scaled on its own.
SIZE_RULE = (
    "the generated image ({gw}x{gh}) was resized to the original's {ow}x{oh} (each axis scaled on its own) "
    "for comparison; boxes refer to the original"
)
LMM_SIZE_RULE = (
    "both images were sent at their own sizes ({ow}x{oh} original, {gw}x{gh} generated); boxes refer to the original (image 1)"
)


def size_rule(original: Image.Image, generated: Image.Image, template: str = SIZE_RULE) -> str | None:
    """The sentence reported in ``size_rule`` when the two sizes differ, else None."""
    if original.size == generated.size:
        return None
    (ow, oh), (gw, gh) = original.size, generated.size
    return template.format(ow=ow, oh=oh, gw=gw, gh=gh)


def crop_original(original: Image.Image, box: Box2D) -> Image.Image:
    """The original's pixels inside ``box`` (pixel = value / 1000 x size, :meth:`Box2D.to_pixels`)."""
    return original.crop(tuple(box.to_pixels(*original.size)))


def draw_boxes(original: Image.Image, boxes: list[Box2D]) -> Image.Image:
    """The original with each box outlined and numbered (1 = first difference)."""
    annotated = original.copy()
    draw = ImageDraw.Draw(annotated)
    width = max(1, round(min(original.size) / 200))
    palette = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180)]
    for index, box in enumerate(boxes):
        x0, y0, x1, y1 = box.to_pixels(*original.size)
        colour = palette[index % len(palette)]
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=colour, width=width)
        draw.text((x0 + width + 1, y0 + width), str(index + 1), fill=colour)
    return annotated


def smart_resize(
    width: int, height: int, *, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 1280
) -> tuple[int, int]:
    """``(width, height)`` a Qwen2-VL/Qwen2.5-VL image processor resizes an image to (transformers' ``smart_resize``).

    Both sides become multiples of ``factor`` (patch 14 x merge 2 = 28 for Qwen2.5-VL), the
    aspect ratio is kept as far as that allows, and the area lands in ``[min_pixels, max_pixels]``.
    Qwen2.5-VL's absolute-pixel boxes refer to this size, not to the image that was sent.
    """
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return w_bar, h_bar
