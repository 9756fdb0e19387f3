"""Decode each image once and derive both model inputs from it, in a thread pool.

PIL's decoders and resizers and OpenCV's decode and resize release the GIL, so a plain
thread pool scales over cores. Per pair the work is: decode both images (the
base64 was already decoded when the request was validated), the CLIP geometry
(the published processor's resize + centre crop, uint8), the 256x256 bilinear resize for
PSNR/SSIM/LPIPS, and PSNR/SSIM on those small arrays.

The two metrics decode as the published evaluation did: CLIP from PIL (``Image.open`` + the
processor's RGB conversion), PSNR from ``cv2.imread``, here ``cv2.imdecode(IMREAD_COLOR)`` on the same
bytes (alpha dropped, EXIF orientation applied, 16-bit to its high byte, CMYK by OpenCV). Where both
are asked for, a file is decoded twice; the results differ for transparent, 16-bit and CMYK files.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from fashionedit.contracts import ImageDecodeError, ImagePayload
from fashionedit.contracts.images import DEFAULT_LIMITS, inspect_image_bytes, to_rgb

from . import metrics

Geometry = Callable[[Image.Image], np.ndarray]


def decode_rgb(payload: ImagePayload, *, jpeg_draft: bool = False) -> Image.Image:
    """Decode to RGB (alpha composited on white, as everywhere in FashionEdit); raises ImageDecodeError."""
    data = payload.to_bytes()
    fmt, width, height = inspect_image_bytes(data, DEFAULT_LIMITS)
    try:
        img = Image.open(io.BytesIO(data))
        if jpeg_draft and fmt == "JPEG":
            # DCT-domain downscale by 1/2, 1/4 or 1/8 while both sides stay >= 256 (the largest input we derive).
            scale = min(width, height) / metrics.PSNR_SIZE[0]
            if scale >= 2:
                img.draft("RGB", (int(width / scale) + 1, int(height / scale) + 1))
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f"image refused as a decompression bomb: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(f"image could not be decoded ({exc}); the file may be truncated or corrupt") from exc
    return img if img.mode == "RGB" else to_rgb(img)


def decode_opencv(payload: ImagePayload) -> np.ndarray:
    """The published PSNR decoding, ``cv2.imread(path)``, on the bytes: ``(H, W, 3)`` uint8, RGB order (BGR flipped).

    PSNR and SSIM do not depend on the channel order; LPIPS does, so the array is flipped to RGB.
    """
    data = payload.to_bytes()
    inspect_image_bytes(data, DEFAULT_LIMITS)  # size limits and decompression bombs, before OpenCV allocates
    try:
        bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:
        raise ImageDecodeError(f"image could not be decoded by OpenCV ({str(exc).strip()[:200]})") from exc
    if bgr is None:
        raise ImageDecodeError(
            "image could not be decoded by OpenCV (cv2.imdecode returned nothing); the file may be truncated or corrupt"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass
class PreparedImage:
    small: np.ndarray  # 256x256x3 uint8 (PSNR, SSIM, LPIPS)
    clip: np.ndarray | None  # model input size, uint8, before normalisation
    decode_ms: float
    resize_ms: float

    def clip_input(self) -> np.ndarray:
        """The CLIP-sized pixels (prepared only when a CLIP model scores the request)."""
        if self.clip is None:
            raise RuntimeError("this image was prepared without CLIP geometry")
        return self.clip


def prepare_image(
    payload: ImagePayload, geometry: Geometry | None, *, jpeg_draft: bool = False, psnr_decode: metrics.PsnrDecode = "opencv"
) -> PreparedImage:
    t0 = time.perf_counter()
    img = decode_rgb(payload, jpeg_draft=jpeg_draft) if (geometry is not None or psnr_decode == "composite") else None
    full = decode_opencv(payload) if psnr_decode == "opencv" else np.asarray(img)
    t1 = time.perf_counter()
    small = metrics.resize_for_psnr(full)
    clip = geometry(img) if (geometry is not None and img is not None) else None
    t2 = time.perf_counter()
    return PreparedImage(small=small, clip=clip, decode_ms=(t1 - t0) * 1000.0, resize_ms=(t2 - t1) * 1000.0)


class PairError(Exception):
    """Which image of which pair failed to decode; becomes a 422 with its location."""

    def __init__(self, loc: list[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


@dataclass
class PreparedPair:
    generated: PreparedImage
    reference: PreparedImage
    psnr: float | None = None
    identical: bool | None = None
    ssim: float | None = None
    cpu_ms: dict[str, float] = field(default_factory=dict)


def prepare_pair(
    index: int,
    generated: ImagePayload,
    reference: ImagePayload,
    *,
    geometry: Geometry | None,
    want_psnr: bool,
    want_ssim: bool,
    psnr_rule: metrics.PsnrIdenticalRule,
    jpeg_draft: bool,
    psnr_decode: metrics.PsnrDecode = "opencv",
) -> PreparedPair:
    images = []
    for side, payload in (("generated", generated), ("reference", reference)):
        try:
            images.append(prepare_image(payload, geometry, jpeg_draft=jpeg_draft, psnr_decode=psnr_decode))
        except ImageDecodeError as exc:
            raise PairError(["pairs", index, side], f"pairs[{index}].{side}: {exc}") from exc
    pair = PreparedPair(generated=images[0], reference=images[1])
    t0 = time.perf_counter()
    if want_psnr:
        pair.psnr, pair.identical = metrics.psnr(pair.generated.small, pair.reference.small, psnr_rule)
    t1 = time.perf_counter()
    if want_ssim:
        pair.ssim = metrics.ssim(pair.generated.small, pair.reference.small)
    t2 = time.perf_counter()
    pair.cpu_ms = {
        "decode_cpu": images[0].decode_ms + images[1].decode_ms,
        "resize_cpu": images[0].resize_ms + images[1].resize_ms,
        "psnr_cpu": (t1 - t0) * 1000.0,
        "ssim_cpu": (t2 - t1) * 1000.0,
    }
    return pair
