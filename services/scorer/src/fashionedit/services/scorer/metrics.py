"""The paper's metrics on prepared arrays: PSNR, SSIM, CLIP*, and their aggregates.

Published evaluation (github detectiveli/FashionEdit, ``CILP.py``)::

    psnr = cv2.PSNR(cv2.resize(img1, (256, 256)), cv2.resize(img2, (256, 256)))   # INTER_LINEAR, uint8
    if score > 0.9: num_images += 1                                                # CLIP*: strictly above

``cv2.PSNR`` computes ``20*log10(255 / (RMSE + DBL_EPSILON))``, so pixel-identical
images get a finite 361.20 dB, never ``inf``. That is what the published means contain, so
it is the default rule (``opencv``); ``exclude`` instead reports ``null`` for
such a pair and leaves it out of the mean PSNR.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from typing import Literal

import cv2
import numpy as np

PSNR_SIZE = (256, 256)  # (width, height) for cv2.resize
PSNR_PEAK = 255.0
# cv2.PSNR(a, a) = 20 * log10(255 / DBL_EPSILON): OpenCV adds DBL_EPSILON to the RMSE.
PSNR_IDENTICAL_OPENCV_DB = 20.0 * math.log10(PSNR_PEAK / sys.float_info.epsilon)

PsnrIdenticalRule = Literal["opencv", "exclude"]

PSNR_RULES: dict[str, str] = {
    "opencv": (
        f"cv2.PSNR on both images resized to 256x256 (cv2.INTER_LINEAR), uint8, peak 255. Pixel-identical pairs "
        f"(MSE 0) score {PSNR_IDENTICAL_OPENCV_DB:.2f} dB, cv2.PSNR's own value (it adds DBL_EPSILON to the RMSE), as in "
        "the published evaluation; no inf reaches a mean"
    ),
    "exclude": (
        "cv2.PSNR on both images resized to 256x256 (cv2.INTER_LINEAR), uint8, peak 255. Pixel-identical pairs "
        "(MSE 0) get psnr=null and are left out of the mean PSNR (aggregate.psnr_n counts the pairs in it)"
    ),
}


PsnrDecode = Literal["opencv", "composite"]

PSNR_DECODE: dict[str, str] = {
    "opencv": "both files decoded as the published cv2.imread does (cv2.imdecode IMREAD_COLOR: alpha dropped, EXIF orientation "
    "applied, 16-bit to its high byte, CMYK by OpenCV)",
    "composite": "both files decoded with PIL, alpha composited on white (not the published decoding for transparent, "
    "16-bit or CMYK files)",
}


def resize_for_psnr(rgb: np.ndarray) -> np.ndarray:
    """The published eval's resize: 256x256, bilinear (``cv2.INTER_LINEAR``, cv2.resize's default)."""
    return cv2.resize(rgb, PSNR_SIZE, interpolation=cv2.INTER_LINEAR)


def is_identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and cv2.norm(a, b, cv2.NORM_INF) == 0


def psnr(a: np.ndarray, b: np.ndarray, rule: PsnrIdenticalRule = "opencv") -> tuple[float | None, bool]:
    """PSNR in dB of two equally sized uint8 arrays, and whether they are identical."""
    identical = is_identical(a, b)
    if identical and rule == "exclude":
        return None, True
    return float(cv2.PSNR(a, b, PSNR_PEAK)), identical


def ssim_available() -> str | None:
    """``None`` when SSIM can be computed, else the reason."""
    try:
        import skimage.metrics  # noqa: F401
    except ImportError as exc:
        return f"scikit-image is not installed ({exc}); install fashionedit-scorer[ssim]"
    return None


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """scikit-image SSIM on the same 256x256 uint8 RGB arrays as PSNR (7x7 window, per channel, data range 255)."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=-1, data_range=255))


def cosines(generated: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two batches of unit embeddings."""
    return np.einsum("ij,ij->i", generated.astype(np.float32), reference.astype(np.float32))


def above(cosine: float, threshold: float) -> bool:
    """CLIP* membership: strictly above the threshold, as the published ``score > 0.9``."""
    return bool(cosine > threshold)


def clip_star(values: Sequence[float], threshold: float) -> float | None:
    """Percent of pairs whose cosine is strictly above ``threshold``."""
    if not values:
        return None
    return 100.0 * sum(1 for value in values if above(value, threshold)) / len(values)


def mean(values: Iterable[float | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return float(np.mean(np.asarray(kept, dtype=np.float64))) if kept else None
