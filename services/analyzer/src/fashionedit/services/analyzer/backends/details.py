"""Details hidden under a colour change: what still differs once the colour change is undone.

A recoloured shirt changes every pixel of the shirt, so a pocket or a neckline changed on the same
shirt is lost inside it. Here the colour change is modelled as a mapping from each original colour to
the generated colour it became: a look-up table over quantised CIELAB, fitted on all the garment in
the region's box, changed or not, where only well-populated colours (the fabrics and their shades,
stripes, outlines) carry an offset. A colour rare in the garment and unlike all of those (black buttons
on a red shirt) is predicted unchanged, so buttons that turned white are not mistaken for part of
the recolour. Applying the mapping to the original predicts the recoloured garment; pixels the
prediction misses are a second, structural kind of change (a pocket added, buttons removed, a
different collar) and become regions of their own.
"""

from __future__ import annotations

import numpy as np

BIN = 12.0  # CIELAB units per look-up bin: fabric shading stays in one bin, outlines and fabric apart
MIN_BIN_PIXELS = 40  # fewer pixels than this cannot say what a colour became; it borrows a neighbour's mapping
MIN_BIN_SHARE = 0.02  # nor can a colour this rare in the garment (buttons): the recolour is about its fabrics
FOLLOW_DISTANCE = 30.0  # CIE76: a colour this far from every well-populated one keeps its own value
RESIDUAL_DELTA_E = 35.0  # CIE76 between the predicted recolour and the design: above this a detail differs
MIN_COLOUR_REGION = 0.02  # of the image: smaller colour changes are details themselves
MIN_FILL = 0.6  # share of the garment in its box a colour change covers


def _bins(lab: np.ndarray) -> np.ndarray:
    q = np.floor(lab / BIN).astype(np.int64)
    return (q[..., 0] + 16) * 10000 + (q[..., 1] + 16) * 100 + (q[..., 2] + 16)


def recolour_residual(lab_original: np.ndarray, lab_generated: np.ndarray, fit: np.ndarray, where: np.ndarray) -> np.ndarray:
    """ΔE (CIE76) between the design and the original recoloured by the mapping fitted on ``fit`` pixels,
    evaluated on ``where`` pixels (0 elsewhere)."""
    residual = np.zeros(lab_original.shape[:2], np.float32)
    if fit.sum() < MIN_BIN_PIXELS or not where.any():
        return residual
    bins_fit = _bins(lab_original[fit])
    keys, inverse, counts = np.unique(bins_fit, return_inverse=True, return_counts=True)
    offsets = lab_generated[fit] - lab_original[fit]
    centres = np.zeros((len(keys), 3))
    mapped = np.zeros((len(keys), 3))
    for index in range(len(keys)):
        member = inverse == index
        centres[index] = np.median(lab_original[fit][member], axis=0)
        mapped[index] = np.median(offsets[member], axis=0)
    reliable = counts >= max(MIN_BIN_PIXELS, MIN_BIN_SHARE * counts.sum())
    if not reliable.any():
        reliable = counts == counts.max()
    # Every original colour takes the offset of the nearest well-populated colour (its own if it is one):
    # shading of a recoloured fabric follows the fabric. A colour unlike any of them (black buttons on a
    # red shirt) is not part of the recolour and is predicted unchanged, so buttons turned white stand out.
    source = lab_original[where]
    distances = ((source[:, None, :] - centres[reliable][None]) ** 2).sum(-1)
    nearest = distances.argmin(-1)
    offsets = mapped[reliable][nearest]
    offsets[distances.min(-1) > FOLLOW_DISTANCE**2] = 0.0
    predicted = source + offsets
    residual[where] = np.linalg.norm(predicted - lab_generated[where], axis=-1)
    return residual
