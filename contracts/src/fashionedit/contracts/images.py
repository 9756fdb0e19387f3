"""Images inside JSON: base64 PNG/JPEG/WebP, validated before any pixel is decoded.

Every service receives and returns images as :class:`ImagePayload`. Validation
runs in two steps so a hostile payload costs almost nothing:

1. on model validation: base64 is checked, the encoded size is capped, the
   format is sniffed from its magic bytes and the *header* is read to get the
   pixel size, which is capped too (decompression bombs are refused here,
   before a single pixel is inflated);
2. on :meth:`ImagePayload.to_pil`: the pixels are decoded, truncation is
   detected, and the image is converted to RGB.

Both steps raise :class:`ImageDecodeError`, whose message says what to do.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError
from pydantic import PrivateAttr, RootModel, model_validator

from .files import atomic_write_bytes

ImageFormat = Literal["PNG", "JPEG", "WEBP"]

_MEDIA_TYPES: dict[str, str] = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(;[\w-]+=[\w.-]+)*;base64,", re.ASCII)
_B64_CHARS = re.compile(rb"^[A-Za-z0-9+/_-]*={0,2}$")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class ImageLimits:
    """Caps applied to every decoded image.

    Defaults fit a 4096x4096 design at ~2 bytes per pixel; services can lower
    them with ``FASHIONEDIT_MAX_IMAGE_BYTES`` and ``FASHIONEDIT_MAX_IMAGE_PIXELS``.
    """

    max_encoded_bytes: int = 32 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_side: int = 8192

    @classmethod
    def from_env(cls) -> ImageLimits:
        base = cls()
        return cls(
            max_encoded_bytes=_env_int("FASHIONEDIT_MAX_IMAGE_BYTES", base.max_encoded_bytes),
            max_pixels=_env_int("FASHIONEDIT_MAX_IMAGE_PIXELS", base.max_pixels),
            max_side=_env_int("FASHIONEDIT_MAX_IMAGE_SIDE", base.max_side),
        )


DEFAULT_LIMITS = ImageLimits.from_env()


class ImageDecodeError(ValueError):
    """An image payload that cannot be accepted; the message is meant for the caller."""


def sniff_format(data: bytes) -> ImageFormat | None:
    """Return the container format from magic bytes, without decoding."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _b64decode(text: str, limits: ImageLimits) -> bytes:
    if text.startswith("data:"):
        match = _DATA_URL.match(text)
        if match:
            text = text[match.end() :]
    # base64 inflates by 4/3: refuse oversized payloads before decoding them.
    if len(text) > limits.max_encoded_bytes * 4 // 3 + 4096:
        raise ImageDecodeError(
            f"image is larger than the {limits.max_encoded_bytes // (1024 * 1024)} MiB limit; "
            "send a smaller or more compressed image"
        )
    try:
        # Fast path (C speed): canonical base64 with no whitespace, which is what every client sends.
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        pass
    # Slow path: whitespace or line breaks, missing padding, or the URL-safe alphabet.
    raw = re.sub(rb"\s+", b"", text.encode("ascii", errors="replace"))
    if not raw:
        raise ImageDecodeError("image is empty; send a base64-encoded PNG, JPEG or WebP")
    if not _B64_CHARS.match(raw):
        raise ImageDecodeError("image is not valid base64; send a base64-encoded PNG, JPEG or WebP")
    try:
        if b"-" in raw or b"_" in raw:
            return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
        return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageDecodeError(f"image is not valid base64 ({exc}); send a base64-encoded PNG, JPEG or WebP") from exc


def inspect_image_bytes(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> tuple[ImageFormat, int, int]:
    """Check format and size from the header only. Returns ``(format, width, height)``."""
    if len(data) > limits.max_encoded_bytes:
        raise ImageDecodeError(
            f"image is {len(data)} bytes, over the {limits.max_encoded_bytes} byte limit; send a smaller or more compressed image"
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageDecodeError("image format not recognised; send PNG, JPEG or WebP")
    try:
        # Image.open reads the header only; pixels are not inflated here.
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(
            f"image refused as a decompression bomb ({exc}); downscale it below {limits.max_pixels} pixels before sending"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(f"image header could not be read ({exc}); the file may be truncated or corrupt") from exc
    if width <= 0 or height <= 0:
        raise ImageDecodeError("image has no pixels")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise ImageDecodeError(
            f"image is {width}x{height} ({width * height} pixels), over the limit of "
            f"{limits.max_pixels} pixels / {limits.max_side} per side; downscale it before sending"
        )
    return fmt, width, height


def decode_image_bytes(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """Decode fully-validated bytes to an RGB PIL image."""
    inspect_image_bytes(data, limits)
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return to_rgb(img)
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"image refused as a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(f"image could not be decoded ({exc}); the file may be truncated or corrupt") from exc


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to RGB; transparency is composited on white (a design sheet's background)."""
    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale to 8 bits instead of clipping.
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        peak = max(float(arr.max()), 1.0)
        scale = 255.0 / (65535.0 if peak > 255 else 255.0)
        return Image.fromarray(np.clip(arr * scale, 0, 255).astype("uint8")).convert("RGB")
    return img.convert("RGB")


def encode_image(img: Image.Image, fmt: ImageFormat = "PNG", *, quality: int = 95, compress_level: int = 1) -> bytes:
    """Encode a PIL image. PNG uses a fast compression level: services send many images."""
    buf = io.BytesIO()
    if fmt == "PNG":
        img.save(buf, format="PNG", compress_level=compress_level, pnginfo=png_text_info(img))
    elif fmt == "JPEG":
        to_rgb(img).save(buf, format="JPEG", quality=quality)
    else:
        img.save(buf, format="WEBP", quality=quality)
    return buf.getvalue()


def png_text_info(img: Image.Image):
    """PNG text chunks of ``img`` ready to save again (the flats renderer stores attributes there), or None."""
    from PIL import PngImagePlugin

    text = getattr(img, "text", None) or {}
    if not text:
        return None
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    return info


class ImagePayload(RootModel[str]):
    """A base64-encoded PNG, JPEG or WebP image (a ``data:`` URL is accepted too).

    Validated on construction (size, format, header); decode with :meth:`to_pil`.
    """

    root: str
    _raw: bytes | None = PrivateAttr(default=None)
    _format: str | None = PrivateAttr(default=None)
    _size: tuple[int, int] | None = PrivateAttr(default=None)

    model_config = {
        "json_schema_extra": {
            "description": "Base64-encoded PNG, JPEG or WebP image (data: URLs accepted).",
            # OpenAPI's spelling of base64 (BentoML's OpenAPI model has no JSON Schema contentEncoding).
            "format": "byte",
        }
    }

    @model_validator(mode="after")
    def _check(self) -> ImagePayload:
        raw = _b64decode(self.root, DEFAULT_LIMITS)
        fmt, width, height = inspect_image_bytes(raw, DEFAULT_LIMITS)
        self._raw, self._format, self._size = raw, fmt, (width, height)
        return self

    # -- constructors --------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes) -> ImagePayload:
        return cls(base64.b64encode(data).decode("ascii"))

    @classmethod
    def from_pil(cls, img: Image.Image, fmt: ImageFormat = "PNG") -> ImagePayload:
        return cls.from_bytes(encode_image(img, fmt))

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> ImagePayload:
        return cls.from_bytes(Path(path).read_bytes())

    # -- accessors -----------------------------------------------------------------
    def to_bytes(self) -> bytes:
        assert self._raw is not None
        return self._raw

    @property
    def format(self) -> str:
        assert self._format is not None
        return self._format

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self.format]

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` from the header."""
        assert self._size is not None
        return self._size

    def to_pil(self, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
        """Decode to an RGB PIL image (raises :class:`ImageDecodeError`)."""
        return decode_image_bytes(self.to_bytes(), limits)

    def to_data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.to_bytes()).decode('ascii')}"

    def png_text(self) -> dict[str, str]:
        """PNG text chunks (metadata), without decoding pixels; empty for other formats."""
        if self.format != "PNG":
            return {}
        with Image.open(io.BytesIO(self.to_bytes())) as img:
            return dict(getattr(img, "text", {}) or {})

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the image bytes atomically: a reader (or a crash) never sees half a file."""
        return atomic_write_bytes(path, self.to_bytes())

    def __repr__(self) -> str:  # never dump megabytes of base64 into logs
        size = f"{self._size[0]}x{self._size[1]}" if self._size else "?"
        return f"ImagePayload({self._format}, {size}, {len(self._raw or b'')} bytes)"

    __str__ = __repr__


def image_payload(value: Any) -> ImagePayload:
    """Coerce PIL images, bytes, paths or payloads to :class:`ImagePayload`."""
    if isinstance(value, ImagePayload):
        return value
    if isinstance(value, Image.Image):
        return ImagePayload.from_pil(value)
    if isinstance(value, (bytes, bytearray)):
        return ImagePayload.from_bytes(bytes(value))
    if isinstance(value, os.PathLike) or (isinstance(value, str) and len(value) < 4096 and Path(value).is_file()):
        return ImagePayload.from_path(value)
    if isinstance(value, str):
        return ImagePayload(value)
    raise TypeError(f"cannot make an image payload from {type(value).__name__}")
