"""Image geometry the analyzer shares: the size rule, crops, the annotated original, VLM input sizes."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from fashionedit.contracts import Box2D
from fashionedit.contracts.boxes import PixelBox

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


# A crop is for a person to read (and the reference an editor gets): a 31x12 button strip shows nothing.
# Each side of a crop is at least MIN_CROP_SIDE pixels or MIN_CROP_SHARE of the image's shorter side,
# whichever is larger (never more than the image's own side).
MIN_CROP_SIDE = 96
MIN_CROP_SHARE = 0.125


def _widen(start: int, end: int, minimum: int, limit: int) -> tuple[int, int]:
    """``[start, end)`` widened around its centre to ``minimum`` pixels, slid back inside ``[0, limit)``."""
    if end - start >= minimum:
        return start, end
    start = round((start + end - minimum) / 2)
    start = min(max(start, 0), limit - minimum)
    return start, start + minimum


def crop_window(box: Box2D, width: int, height: int) -> PixelBox:
    """The pixels a crop of ``box`` shows in a ``width x height`` image: the box's pixels (``Box2D.to_pixels``),
    each side widened around the box's centre to the readable minimum (``MIN_CROP_SIDE``/``MIN_CROP_SHARE``)
    and shifted, not cut, at the image's border. ``box_2d`` itself stays the tight box; the window always
    contains it."""
    tight = box.to_pixels(width, height)
    minimum = max(MIN_CROP_SIDE, round(MIN_CROP_SHARE * min(width, height)))
    x0, x1 = _widen(tight.x0, tight.x1, min(minimum, width), width)
    y0, y1 = _widen(tight.y0, tight.y1, min(minimum, height), height)
    return PixelBox(x0, y0, x1, y1)


def crop_original(original: Image.Image, box: Box2D, *, readable: bool = False) -> Image.Image:
    """The original's pixels inside ``box`` (pixel = value / 1000 x size, :meth:`Box2D.to_pixels`: the paper's
    reference crop), or with ``readable`` the readable window of :func:`crop_window` around it."""
    window = crop_window(box, *original.size) if readable else box.to_pixels(*original.size)
    return original.crop(window)


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
