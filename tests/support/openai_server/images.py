"""Deterministic stand-ins for what the OpenAI models would do with images.

Nothing here is random: every output is a function of the inputs (image bytes,
prompt text, options), so tests can assert both determinism (same input → same
bytes) and input dependence (different input → different output).

* :func:`edit_image` plays the image model (Responses ``image_generation`` tool,
  ``images.edit``): the first image is the base; a second image is pasted,
  resized, into the edit region (the mask's transparent area, else a region
  derived from the prompt hash); the region is tinted by a colour derived from
  the prompt hash.
* :func:`find_differences` plays the vision model of the paper's difference
  analysis: a coarse grid of mean absolute difference between image 1 and
  image 2 (resized to image 1's size); the top cells become ``box_2d`` boxes
  ``[ymin, xmin, ymax, xmax]`` on 0–1000, described by the colour of image 1 there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

# A fake upstream must not be brought down by a decompression bomb either.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Named colours for descriptions; nearest by RGB distance.
_PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "white": (240, 240, 240),
    "grey": (128, 128, 128),
    "red": (200, 30, 30),
    "orange": (240, 140, 30),
    "yellow": (235, 220, 50),
    "green": (40, 160, 60),
    "blue": (40, 70, 200),
    "navy": (20, 30, 90),
    "purple": (120, 50, 160),
    "pink": (240, 150, 190),
    "brown": (120, 75, 40),
    "beige": (220, 200, 160),
}

_GARMENT_PARTS = ("collar", "sleeve", "hem", "pocket", "waistband", "neckline", "cuff", "button placket", "trim")


class ImageInputError(ValueError):
    """An input image that cannot be used (not base64, not an image, too large)."""


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # RGBA, so masks keep their alpha
    raw: bytes
    mime: str

    def summary(self) -> dict[str, object]:
        if not hasattr(self, "_summary"):
            object.__setattr__(self, "_summary", summarize(self.raw, self.image, self.mime))
        return dict(self._summary)  # type: ignore[attr-defined]


def summarize(raw: bytes, image: Image.Image | None = None, mime: str | None = None) -> dict[str, object]:
    """What the request log keeps of an image: enough to assert on, without the bytes."""
    out: dict[str, object] = {"size_bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    if mime:
        out["content_type"] = mime
    if image is not None:
        out["width"], out["height"] = image.size
    return out


def decode_image(raw: bytes, mime: str = "") -> DecodedImage:
    try:
        with Image.open(io.BytesIO(raw)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise ImageInputError(f"image of {opened.width}x{opened.height} pixels is too large")
            image = ImageOps.exif_transpose(opened).convert("RGBA")
            fmt = (opened.format or "").lower()
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageInputError(f"image rejected: {exc}") from exc
    except Exception as exc:  # PIL raises many types for undecodable input
        raise ImageInputError(f"could not decode image ({len(raw)} bytes): {exc.__class__.__name__}") from exc
    return DecodedImage(image=image, raw=raw, mime=mime or (f"image/{fmt}" if fmt else "application/octet-stream"))


def parse_data_url(url: str) -> tuple[str, bytes]:
    """``data:image/png;base64,...`` → (mime, bytes). Remote URLs cannot be fetched here."""
    if not isinstance(url, str) or not url.startswith("data:"):
        shown = url[:60] if isinstance(url, str) else type(url).__name__
        raise ImageInputError(f"only base64 data URLs are supported by the local test server, got {shown!r}")
    header, sep, payload = url.partition(",")
    if not sep or ";base64" not in header:
        raise ImageInputError("image data URL must be base64 encoded: data:<mime>;base64,<data>")
    mime = header[5:].split(";")[0]
    try:
        raw = binascii.a2b_base64(payload, strict_mode=True)  # strict like validate=True, without its slow regex
    except (binascii.Error, ValueError) as exc:
        raise ImageInputError(f"image data URL is not valid base64: {exc}") from exc
    return mime, raw


def decode_data_url(url: str) -> DecodedImage:
    mime, raw = parse_data_url(url)
    return decode_image(raw, mime)


def parse_size(size: object, default: tuple[int, int]) -> tuple[int, int]:
    """``"1024x1024"`` → (1024, 1024); ``None``/``"auto"`` → ``default``."""
    if size in (None, "", "auto"):
        return default
    if isinstance(size, str) and "x" in size:
        w, _, h = size.partition("x")
        if w.isdigit() and h.isdigit() and 0 < int(w) <= 4096 and 0 < int(h) <= 4096:
            return int(w), int(h)
    raise ValueError(f"Invalid value for 'size': {size!r}. Expected 'auto' or 'WIDTHxHEIGHT', e.g. '1024x1024'.")


def _digest(*parts: object) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else repr(part).encode())
        h.update(b"\x00")
    return h.digest()


def prompt_colour(prompt: str, variant: int = 0) -> tuple[int, int, int]:
    d = _digest("colour", prompt, variant)
    return d[0], d[1], d[2]


def prompt_region(prompt: str, width: int, height: int) -> tuple[int, int, int, int]:
    """A box covering a quarter to half of each side, placed by the prompt hash: (x0, y0, x1, y1)."""
    d = _digest("region", prompt)
    bw = max(1, int(width * (0.25 + 0.25 * d[0] / 255)))
    bh = max(1, int(height * (0.25 + 0.25 * d[1] / 255)))
    x0 = int((width - bw) * d[2] / 255)
    y0 = int((height - bh) * d[3] / 255)
    return x0, y0, x0 + bw, y0 + bh


def mask_region(mask: Image.Image, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """OpenAI masks mark the area to edit with alpha 0. Returns (boolean edit mask, its bounding box)."""
    alpha = np.asarray(mask.convert("RGBA").resize(size, Image.Resampling.NEAREST))[..., 3]
    edit = alpha < 128
    if not edit.any():
        return edit, None
    ys, xs = np.nonzero(edit)
    return edit, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def edit_image(
    images: list[Image.Image],
    prompt: str,
    *,
    mask: Image.Image | None = None,
    size: tuple[int, int] | None = None,
    variant: int = 0,
) -> Image.Image:
    """The deterministic "image model": see the module docstring."""
    if images:
        base = images[0].convert("RGB")
    else:  # text-only generation: a gradient in the prompt's colours
        w, h = size or (1024, 1024)
        c0, c1 = np.array(prompt_colour(prompt, variant), float), np.array(prompt_colour(prompt + "/2", variant), float)
        t = np.linspace(0.0, 1.0, h)[:, None, None]
        arr = np.broadcast_to((1 - t) * c0 + t * c1, (h, w, 3))
        return Image.fromarray(arr.astype(np.uint8), "RGB")
    width, height = base.size
    canvas = np.asarray(base, dtype=np.float32).copy()

    edit_mask = None
    box = None
    if mask is not None:
        edit_mask, box = mask_region(mask, (width, height))
    if box is None:
        box = prompt_region(prompt, width, height) if len(images) > 1 else (0, 0, width, height)
        edit_mask = np.zeros((height, width), bool)
        x0, y0, x1, y1 = box
        edit_mask[y0:y1, x0:x1] = True
    x0, y0, x1, y1 = box
    # Work on the bounding box only; `inside` selects the edit area within it.
    window = canvas[y0:y1, x0:x1]
    inside = edit_mask[y0:y1, x0:x1][..., None]
    edited = window.copy()
    if len(images) > 1:  # the reference goes into the edit region
        ref = images[1].convert("RGB").resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR)
        edited = np.asarray(ref, dtype=np.float32).copy()
    for extra in images[2:]:  # further references nudge the region's colour, so they count too
        mean = np.asarray(extra.convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(0)
        edited = 0.9 * edited + 0.1 * mean
    tint = np.array(prompt_colour(prompt, variant), dtype=np.float32)
    edited = 0.75 * edited + 0.25 * tint
    canvas[y0:y1, x0:x1] = np.where(inside, edited, window)
    out = Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), "RGB")
    if size is not None and size != out.size:
        out = out.resize(size, Image.Resampling.BILINEAR)
    return out


def encode_image(image: Image.Image, fmt: str = "png") -> bytes:
    fmt = (fmt or "png").lower()
    buf = io.BytesIO()
    if fmt in ("jpeg", "jpg"):
        image.convert("RGB").save(buf, format="JPEG", quality=90)
    elif fmt == "webp":
        image.save(buf, format="WEBP", lossless=True)
    else:
        image.save(buf, format="PNG", compress_level=1)  # speed over size: this is a test double
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def colour_name(rgb: np.ndarray | tuple[float, float, float]) -> str:
    r = np.asarray(rgb, dtype=np.float32)
    return min(_PALETTE, key=lambda name: float(((np.asarray(_PALETTE[name], np.float32) - r) ** 2).sum()))


def find_differences(original: Image.Image, generated: Image.Image | None, k: int = 3, grid: int = 8) -> list[dict[str, object]]:
    """Top-``k`` grid cells by mean absolute difference, as ``{"description", "box_2d"}``.

    ``box_2d`` is ``[ymin, xmin, ymax, xmax]`` on 0–1000 (the paper's convention).
    Image 2 is resized to image 1's size; with only one image, the cells that
    differ most from image 1's mean colour stand out instead. Ties are broken by
    cell order, so the answer is deterministic.
    """
    a = np.asarray(original.convert("RGB"), dtype=np.float32)
    height, width = a.shape[:2]
    if generated is not None:
        b = np.asarray(generated.convert("RGB").resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    else:
        b = np.broadcast_to(a.reshape(-1, 3).mean(0), a.shape)
    diff = np.abs(a - b).mean(axis=2)
    rows, cols = min(grid, height), min(grid, width)
    ys = np.linspace(0, height, rows + 1).round().astype(int)
    xs = np.linspace(0, width, cols + 1).round().astype(int)
    cells = []
    for i in range(rows):
        for j in range(cols):
            score = float(diff[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean())
            cells.append((-score, i, j))
    cells.sort()
    out = []
    for neg_score, i, j in cells[: max(k, 0)]:
        colour = colour_name(a[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].reshape(-1, 3).mean(0))
        part = _GARMENT_PARTS[(i * cols + j) % len(_GARMENT_PARTS)]
        box = [
            round(1000 * ys[i] / height),
            round(1000 * xs[j] / width),
            round(1000 * ys[i + 1] / height),
            round(1000 * xs[j + 1] / width),
        ]
        out.append(
            {
                "description": f"The {part} in the first image is {colour} (difference {-neg_score:.1f}).",
                "box_2d": box,
            }
        )
    return out


# -- other vision models' box conventions ----------------------------------------------


def qwen25_input_size(
    width: int, height: int, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 28 * 28 * 1280
) -> tuple[int, int]:
    """Qwen2.5-VL's ``smart_resize`` (transformers' Qwen2VLImageProcessor defaults): (width, height) the model sees."""
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


def convert_differences(
    differences: list[dict[str, object]], convention: str, width: int, height: int
) -> list[dict[str, object]]:
    """Rewrite ``box_2d`` answers the way another model family would write them.

    * ``"qwen2.5-vl"``: ``bbox_2d`` = ``[x1, y1, x2, y2]`` in pixels of :func:`qwen25_input_size` of image 1;
    * ``"qwen3-vl"``: ``bbox_2d`` = ``[x1, y1, x2, y2]`` on 0–1000;
    * ``"box_2d"`` (default): unchanged.
    """
    if convention in ("box_2d", "", None):
        return differences
    out = []
    for item in differences:
        ymin, xmin, ymax, xmax = item["box_2d"]  # type: ignore[misc]
        if convention == "qwen3-vl":
            box = [xmin, ymin, xmax, ymax]
        elif convention == "qwen2.5-vl":
            w, h = qwen25_input_size(width, height)
            box = [round(xmin * w / 1000), round(ymin * h / 1000), round(xmax * w / 1000), round(ymax * h / 1000)]
        else:
            raise ValueError(f"unknown box convention {convention!r}; use 'box_2d', 'qwen2.5-vl' or 'qwen3-vl'")
        out.append({"bbox_2d": box, "label": item["description"]} if convention.startswith("qwen") else item)
    return out


def render_content(payload: object, wrap: str | None) -> str:
    """Serialise an answer the way a model might: plain JSON, a fenced block, a Python literal."""
    if wrap in (None, "", "json"):
        return json.dumps(payload)
    if wrap == "fenced":
        return "Here are the differences:\n```json\n" + json.dumps(payload, indent=2) + "\n```"
    if wrap == "python":
        return repr(payload)
    raise ValueError(f"unknown wrap {wrap!r}; use 'json', 'fenced' or 'python'")
