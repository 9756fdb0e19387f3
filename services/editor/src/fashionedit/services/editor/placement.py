"""Classical image-into-prompt: find where a reference belongs, place it there, harmonise the seams.

Offline and deterministic (OpenCV + numpy). Pixels outside the target box are never changed:
the blend weight is zero there by construction.

* :func:`find_box`: multi-scale template matching of the reference against the design
  (normalised cross-correlation; colour distance for flat, texture-less references).
* :func:`place_reference`: the reference resized into the box, blended with a feathered band
  inside the box edge where it would show a seam (``feather``, keeps the reference's colours; a
  reference that continues its surroundings is pasted as it is), or Poisson-blended with
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
# A colour step (max over RGB, smoothed along the side) under LOW between a patch's edge and the pixels just
# outside the box shows no seam; over HIGH it is a full seam, faded over the feather band.
SEAM_STEP_LOW = 8.0
SEAM_STEP_HIGH = 32.0


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


def fit_reference(reference: np.ndarray, box: PixelBox) -> np.ndarray:
    shrinking = reference.shape[1] > box.width or reference.shape[0] > box.height
    return cv2.resize(reference, (box.width, box.height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def _edge_mismatch(edge: np.ndarray, beside: np.ndarray, smooth: int) -> np.ndarray:
    """Per position along a box side, how visible a seam would be (0 none, 1 full): the colour step between
    the patch's edge and the image's pixels just outside, smoothed along the side."""
    step = np.abs(edge.astype(np.float32) - beside.astype(np.float32)).max(axis=-1)
    if smooth > 1 and len(step) > 1:
        step = cv2.blur(step[None], (min(smooth, len(step)) | 1, 1))[0]
    return np.clip((step - SEAM_STEP_LOW) / (SEAM_STEP_HIGH - SEAM_STEP_LOW), 0.0, 1.0)


def seam_weights(image: np.ndarray, patch: np.ndarray, box: PixelBox, band: int) -> np.ndarray:
    """HxW blend weights for ``patch`` in ``box``: 1 inside, falling to 0 at a side over ``band`` pixels
    only where the patch would meet the image with a visible step.

    A reference that continues its surroundings (a crop of the original pasted back into a tight box)
    has no seam to hide, and fading there would leave the old pixels half in place; a generated patch
    that differs from its surroundings is faded as before. Sides on the image border have no seam.
    """
    height, width = box.height, box.width
    if band <= 0:
        return np.ones((height, width), np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]

    def falloff(distance: np.ndarray) -> np.ndarray:
        t = np.clip((distance + 0.5) / band, 0.0, 1.0)
        return 1.0 - t * t * (3.0 - 2.0 * t)  # 1 at the side, 0 from ``band`` in (smoothstep)

    fade = np.zeros((height, width), np.float32)
    image_h, image_w = image.shape[:2]
    if box.y0 > 0:
        fade = np.maximum(fade, _edge_mismatch(patch[0], image[box.y0 - 1, box.x0:box.x1], band)[None, :] * falloff(rows))
    if box.y1 < image_h:
        fade = np.maximum(fade, _edge_mismatch(patch[-1], image[box.y1, box.x0:box.x1], band)[None, :] * falloff(height - 1 - rows))
    if box.x0 > 0:
        fade = np.maximum(fade, _edge_mismatch(patch[:, 0], image[box.y0:box.y1, box.x0 - 1], band)[:, None] * falloff(cols))
    if box.x1 < image_w:
        fade = np.maximum(fade, _edge_mismatch(patch[:, -1], image[box.y0:box.y1, box.x1], band)[:, None] * falloff(width - 1 - cols))
    return 1.0 - fade


def blend_into_box(image: np.ndarray, patch: np.ndarray, box: PixelBox, feather: float) -> np.ndarray:
    """``patch`` (box-sized) blended into ``image`` inside ``box``, faded at the sides where it would show a
    seam (:func:`seam_weights`); outside untouched."""
    band = int(round(feather * min(box.width, box.height)))
    weights = seam_weights(image, patch, box, band)[..., None]
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
