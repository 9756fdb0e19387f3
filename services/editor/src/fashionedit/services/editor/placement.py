"""Classical image-into-prompt: find where a reference belongs, place it there, harmonise the seams.

Offline and deterministic (OpenCV + numpy). Pixels outside the target box are never changed:
the blend weight is zero there by construction.

* :func:`find_box`: multi-scale template matching of the reference against the design
  (normalised cross-correlation; colour distance for flat, texture-less references).
* :func:`place_reference`: the reference resized into the box, blended with a feathered band
  inside the box edge (``feather``, keeps the reference's colours), or Poisson-blended with
  ``cv2.seamlessClone`` (``poisson`` / ``mixed``, which adapts colours to the surroundings).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import cv2
import numpy as np

from fashionedit.contracts.boxes import PixelBox

SeamMode = Literal["feather", "poisson", "mixed"]

MATCH_MAX_SIDE = 160  # matching runs on a copy no larger than this: cheap, and plenty for locating a part
MATCH_SCALES = 24
MIN_TEMPLATE_SIDE = 6


class Match(NamedTuple):
    box: PixelBox
    score: float  # 1.0 is a perfect match


def _flat(template: np.ndarray) -> bool:
    return float(template.reshape(-1, template.shape[-1]).std(axis=0).max()) < 2.0


def find_box(image: np.ndarray, reference: np.ndarray, *, scales: int = MATCH_SCALES) -> Match:
    """Best box for ``reference`` in ``image`` (both HxWx3 uint8), over reference widths 5%-100% of the image.

    The reference keeps its aspect ratio. Scores are normalised cross-correlation in [-1, 1]; for a
    flat reference (no texture to correlate) ``1 - rms colour distance / 255``.
    """
    height, width = image.shape[:2]
    shrink = min(1.0, MATCH_MAX_SIDE / max(height, width))
    small = cv2.resize(image, (max(1, round(width * shrink)), max(1, round(height * shrink))), interpolation=cv2.INTER_AREA) if shrink < 1 else image
    sh, sw = small.shape[:2]
    small_f = small.astype(np.float32)
    ref_h, ref_w = reference.shape[:2]
    aspect = ref_h / ref_w
    best: Match | None = None
    for fraction in np.geomspace(0.05, 1.0, scales):
        tw = int(round(sw * fraction))
        th = int(round(tw * aspect))
        if tw < MIN_TEMPLATE_SIDE or th < MIN_TEMPLATE_SIDE or tw > sw or th > sh:
            continue
        template = cv2.resize(reference, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32)
        if _flat(template):
            sq = cv2.matchTemplate(small_f, template, cv2.TM_SQDIFF)
            min_val, _, min_loc, _ = cv2.minMaxLoc(sq)
            score, loc = 1.0 - float(np.sqrt(max(min_val, 0.0) / (tw * th * 3))) / 255.0, min_loc
        else:
            cc = cv2.matchTemplate(small_f, template, cv2.TM_CCOEFF_NORMED)
            cc = np.nan_to_num(cc, nan=-1.0, posinf=-1.0, neginf=-1.0)
            _, max_val, _, max_loc = cv2.minMaxLoc(cc)
            score, loc = float(max_val), max_loc
        # Near-ties go to the larger scale: a flat patch matches anywhere inside a flat area.
        if best is None or score >= best.score - 1e-3:
            x0, y0 = loc
            box = PixelBox(
                int(np.floor(x0 / shrink)), int(np.floor(y0 / shrink)),
                min(width, int(np.ceil((x0 + tw) / shrink))), min(height, int(np.ceil((y0 + th) / shrink))),
            )
            best = Match(box, score)
    if best is None:  # reference far wider/taller than the image allows: use the whole image
        return Match(PixelBox(0, 0, width, height), -1.0)
    return best


def feather_weights(height: int, width: int, band: int) -> np.ndarray:
    """HxW blend weights: 1 inside, smoothly down to 0 at the box edge over ``band`` pixels."""
    if band <= 0:
        return np.ones((height, width), np.float32)
    ys = np.minimum(np.arange(height), np.arange(height)[::-1]).astype(np.float32) + 0.5
    xs = np.minimum(np.arange(width), np.arange(width)[::-1]).astype(np.float32) + 0.5
    t = np.clip(np.minimum(ys[:, None], xs[None, :]) / band, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)  # smoothstep


def fit_reference(reference: np.ndarray, box: PixelBox) -> np.ndarray:
    shrinking = reference.shape[1] > box.width or reference.shape[0] > box.height
    return cv2.resize(reference, (box.width, box.height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def blend_into_box(image: np.ndarray, patch: np.ndarray, box: PixelBox, feather: float) -> np.ndarray:
    """``patch`` (box-sized) blended into ``image`` inside ``box`` with a feathered edge; outside untouched."""
    band = int(round(feather * min(box.width, box.height)))
    weights = feather_weights(box.height, box.width, band)[..., None]
    out = image.copy()
    region = out[box.y0:box.y1, box.x0:box.x1].astype(np.float32)
    out[box.y0:box.y1, box.x0:box.x1] = np.clip(weights * patch.astype(np.float32) + (1 - weights) * region + 0.5, 0, 255).astype(np.uint8)
    return out


def _seamless(image: np.ndarray, patch: np.ndarray, box: PixelBox, mode: SeamMode) -> np.ndarray:
    # seamlessClone refuses masks that touch the destination's border: pad, clone, crop back.
    pad = 4
    dst = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    src = np.zeros_like(dst)
    src[box.y0 + pad:box.y1 + pad, box.x0 + pad:box.x1 + pad] = patch
    mask = np.zeros(dst.shape[:2], np.uint8)
    mask[box.y0 + pad:box.y1 + pad, box.x0 + pad:box.x1 + pad] = 255
    center = ((box.x0 + box.x1) // 2 + pad, (box.y0 + box.y1) // 2 + pad)
    flag = cv2.NORMAL_CLONE if mode == "poisson" else cv2.MIXED_CLONE
    cloned = cv2.seamlessClone(src, dst, mask, center, flag)[pad:-pad, pad:-pad]
    out = image.copy()
    out[box.y0:box.y1, box.x0:box.x1] = cloned[box.y0:box.y1, box.x0:box.x1]
    return out


def place_reference(image: np.ndarray, reference: np.ndarray, box: PixelBox, *, seam: SeamMode = "feather", feather: float = 0.08) -> np.ndarray:
    """The design with ``reference`` placed into ``box`` (HxWx3 uint8 arrays); only the box changes."""
    patch = fit_reference(reference, box)
    if seam == "feather" or box.width < 3 or box.height < 3:
        return blend_into_box(image, patch, box, feather)
    return _seamless(image, patch, box, seam)
