"""Image helpers for the builder: square resizes that keep PNG text chunks (flats carry their attributes there)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

from PIL import Image

from fashionedit.contracts.images import png_text_info

ResizeMode = Literal["pad", "stretch"]


def square_png(source: bytes | str | Path, side: int, mode: ResizeMode = "pad") -> bytes:
    """``source`` as a ``side x side`` PNG. Already that size and a PNG: the bytes unchanged.

    ``pad`` keeps the aspect ratio and centres the image on white (DeepFashion photos and flats have
    light backgrounds); ``stretch`` squashes it. PNG text chunks are kept.
    """
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        info = png_text_info(img)
        if img.size == (side, side) and img.format == "PNG":
            return data
        rgb = img.convert("RGB")
    if mode == "stretch" or rgb.width == rgb.height:
        out = rgb.resize((side, side), Image.Resampling.LANCZOS) if rgb.size != (side, side) else rgb
    else:
        scale = side / max(rgb.width, rgb.height)
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        inner = rgb.resize(size, Image.Resampling.LANCZOS)
        out = Image.new("RGB", (side, side), (255, 255, 255))
        out.paste(inner, ((side - size[0]) // 2, (side - size[1]) // 2))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", pnginfo=info, compress_level=4)
    return buffer.getvalue()


def square_box(
    box: tuple[float, float, float, float], size: tuple[int, int], mode: ResizeMode
) -> tuple[float, float, float, float]:
    """A ``box_2d`` (0-1000) of an image of ``size`` as the same region of its square resize."""
    ymin, xmin, ymax, xmax = box
    width, height = size
    if mode == "stretch" or width == height:
        return ymin, xmin, ymax, xmax
    longest = max(width, height)
    ox, oy = (longest - width) / 2, (longest - height) / 2  # padding, in source pixels

    def fx(v: float) -> float:
        return (ox + v / 1000 * width) / longest * 1000

    def fy(v: float) -> float:
        return (oy + v / 1000 * height) / longest * 1000

    return fy(ymin), fx(xmin), fy(ymax), fx(xmax)


def crop_png(png: bytes, box_2d: tuple[float, float, float, float]) -> bytes:
    """The pixels of ``png`` inside ``box_2d`` (0-1000), as the services cut crops (floor/ceil, never empty)."""
    from fashionedit.contracts import Box2D

    with Image.open(io.BytesIO(png)) as img:
        rgb = img.convert("RGB")
    x0, y0, x1, y1 = Box2D(box_2d).to_pixels(rgb.width, rgb.height)
    buffer = io.BytesIO()
    rgb.crop((x0, y0, x1, y1)).save(buffer, format="PNG")
    return buffer.getvalue()
