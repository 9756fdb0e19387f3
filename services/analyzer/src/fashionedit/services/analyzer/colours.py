"""Colour names for measured colours: nearest entry of the contracts' colour vocabulary in CIELAB (CIEDE2000).

The reference values are typical textile renderings of each name (sRGB, D65). Naming is
nearest-neighbour, so a colour is always named; :func:`name_colour` also returns the
distance so callers can hedge ("greyish") when nothing is close.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from fashionedit.contracts.garment import ColorName

REFERENCE_RGB: dict[ColorName, tuple[int, int, int]] = {
    ColorName.WHITE: (248, 248, 245),
    ColorName.CREAM: (242, 232, 205),
    ColorName.BEIGE: (218, 200, 166),
    ColorName.KHAKI: (190, 172, 122),
    ColorName.YELLOW: (245, 205, 45),
    ColorName.GOLD: (207, 160, 45),
    ColorName.ORANGE: (238, 125, 35),
    ColorName.RED: (196, 32, 40),
    ColorName.BURGUNDY: (118, 22, 42),
    ColorName.PINK: (240, 155, 185),
    ColorName.PURPLE: (105, 48, 145),
    ColorName.LAVENDER: (182, 162, 222),
    ColorName.NAVY: (30, 40, 88),
    ColorName.BLUE: (38, 88, 196),
    ColorName.LIGHT_BLUE: (152, 196, 232),
    ColorName.TEAL: (22, 128, 128),
    ColorName.GREEN: (42, 138, 62),
    ColorName.OLIVE: (108, 110, 52),
    ColorName.BROWN: (108, 68, 42),
    ColorName.GREY: (148, 148, 148),
    ColorName.CHARCOAL: (62, 63, 67),
    ColorName.BLACK: (20, 20, 22),
    ColorName.SILVER: (194, 196, 202),
}

# How a description prints a name ("navy blue" reads better than "navy").
DISPLAY: dict[ColorName, str] = {c: c.value for c in ColorName} | {ColorName.NAVY: "navy blue"}

_NAMES = list(REFERENCE_RGB)
_REFERENCE_LAB = rgb2lab(np.array([REFERENCE_RGB[n] for n in _NAMES], dtype=np.float64)[None] / 255.0)[0]


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 (any shape ending in 3) to CIELAB."""
    return rgb2lab(np.asarray(rgb, dtype=np.float64) / 255.0)


def to_lab_8bit(rgb: np.ndarray) -> np.ndarray:
    """sRGB uint8 to CIELAB through OpenCV's 8-bit conversion: about 6x faster than :func:`to_lab`
    and within ~2 ΔE of it (under 0.7 for 99 % of colours), so for thresholds, not for naming."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2Lab).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    return lab


REFERENCE_LAB = _REFERENCE_LAB


def name_lab(lab: np.ndarray) -> tuple[ColorName, float]:
    """Nearest vocabulary colour to one Lab colour, and its CIEDE2000 distance."""
    lab = np.asarray(lab, dtype=np.float64).reshape(1, 3)
    distances = deltaE_ciede2000(np.repeat(lab, len(_NAMES), axis=0), _REFERENCE_LAB)
    best = int(np.argmin(distances))
    return _NAMES[best], float(distances[best])


LIT_PERCENTILE = 85.0
FABRIC_SPREAD = 20.0  # CIE76 from the median: the fabric's own shades


def lit_colour(lab_pixels: np.ndarray) -> np.ndarray:
    """The colour of a fabric as lit, from its pixels (N x 3 CIELAB).

    Shading, folds and weave texture only darken a fabric, so its median pixel is darker than its
    colour (a cream knit reads as beige, white as silver). The pixels near the median colour (the
    fabric, not a print or an outline on it) are taken, and the colour of the lightest of them
    (from the ``LIT_PERCENTILE``-th lightness up) is returned.
    """
    lab_pixels = np.asarray(lab_pixels, dtype=np.float64).reshape(-1, 3)
    median = np.median(lab_pixels, axis=0)
    fabric = lab_pixels[np.linalg.norm(lab_pixels - median, axis=-1) < FABRIC_SPREAD]
    if len(fabric) < 10:
        return median
    cut = np.percentile(fabric[:, 0], LIT_PERCENTILE)
    return np.median(fabric[fabric[:, 0] >= cut], axis=0)


def name_colour(rgb: tuple[float, float, float] | np.ndarray) -> tuple[ColorName, float]:
    return name_lab(to_lab(np.asarray(rgb, dtype=np.float64).reshape(1, 1, 3))[0, 0])


def display(name: ColorName) -> str:
    return DISPLAY[name]
