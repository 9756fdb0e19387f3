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
FABRIC_SPREAD = 20.0  # CIE76 from the dominant colour: the fabric's own shades
DOMINANT_BIN = 8.0  # CIELAB units per bin when looking for the most common colour
# A measured colour within this CIEDE2000 of its nearest reference is called by that name; further away
# the name is hedged ("close to navy blue"). Neighbouring references are 9-25 apart.
NAME_DELTA_E = 15.0


def dominant_colour(lab_pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """The most common colour among ``lab_pixels`` (N x 3 CIELAB), as lit, and the share of pixels near it.

    A region mixes colours: gold buttons on navy, a print on a fabric, anti-aliased outlines. A per-channel
    median of such a mixture is a colour nobody drew (navy and gold make olive), so the colour is found as
    a mode instead: the most populated ``DOMINANT_BIN`` bin, then the pixels within ``FABRIC_SPREAD`` of it
    (that colour's own shades). Shading, folds and weave only darken a fabric, so its colour is the median
    of the lightest of those shades (from the ``LIT_PERCENTILE``-th lightness up).
    """
    lab_pixels = np.asarray(lab_pixels, dtype=np.float64).reshape(-1, 3)
    if len(lab_pixels) == 0:
        raise ValueError("no pixels to measure a colour from")
    bins = np.floor(lab_pixels / DOMINANT_BIN).astype(np.int64)
    _, inverse, counts = np.unique(bins, axis=0, return_inverse=True, return_counts=True)
    centre = np.median(lab_pixels[inverse.ravel() == int(np.argmax(counts))], axis=0)
    for _ in range(2):  # settle on the middle of that colour's shades, not the edge of one bin
        near = np.linalg.norm(lab_pixels - centre, axis=-1) < FABRIC_SPREAD
        centre = np.median(lab_pixels[near], axis=0)
    near = np.linalg.norm(lab_pixels - centre, axis=-1) < FABRIC_SPREAD
    shades = lab_pixels[near]
    share = float(near.mean())
    if len(shades) < 10:
        return centre, share
    cut = np.percentile(shades[:, 0], LIT_PERCENTILE)
    return np.median(shades[shades[:, 0] >= cut], axis=0), share


def lit_colour(lab_pixels: np.ndarray) -> np.ndarray:
    """The colour of a fabric as lit, from its pixels (N x 3 CIELAB): :func:`dominant_colour` without the share."""
    return dominant_colour(lab_pixels)[0]


def colour_words(lab: np.ndarray) -> str:
    """How a description names a measured colour: the nearest reference's name, hedged when it is over
    ``NAME_DELTA_E`` away (a colour the vocabulary has no close name for)."""
    name, distance = name_lab(lab)
    return display(name) if distance <= NAME_DELTA_E else f"{display(name)} (the nearest named colour, ΔE {distance:.0f})"


MIXED_SHARE = 0.7  # a dominant colour covering less than this of the pixels is not the region's only colour
SECOND_SHARE = 0.25  # a second colour covering at least this much is named with it ("white and black" stripes)


def pixels_words(lab_pixels: np.ndarray) -> str:
    """The colour words for a region's pixels (N x 3 CIELAB): its dominant colour, and a second one where
    the region is a mixture of two (stripes, a print) rather than one colour with shades and outlines."""
    lab_pixels = np.asarray(lab_pixels, dtype=np.float64).reshape(-1, 3)
    first, share = dominant_colour(lab_pixels)
    words = colour_words(first)
    if share >= MIXED_SHARE:
        return words
    rest = lab_pixels[np.linalg.norm(lab_pixels - first, axis=-1) >= FABRIC_SPREAD]
    if len(rest) < SECOND_SHARE * len(lab_pixels):
        return words
    second, second_share = dominant_colour(rest)
    if second_share * len(rest) < SECOND_SHARE * len(lab_pixels) or name_lab(second)[0] is name_lab(first)[0]:
        return words
    return f"{words} and {colour_words(second)}"


def name_colour(rgb: tuple[float, float, float] | np.ndarray) -> tuple[ColorName, float]:
    return name_lab(to_lab(np.asarray(rgb, dtype=np.float64).reshape(1, 1, 3))[0, 0])


def display(name: ColorName) -> str:
    return DISPLAY[name]
