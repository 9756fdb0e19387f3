"""Classical image-into-prompt: find where a reference belongs, place it there, harmonise the seams.

Offline and deterministic (OpenCV + numpy). Pixels outside the target box are never changed:
the blend weight is zero there by construction.

* :func:`find_box`: multi-scale template matching of the reference against the design
  (normalised cross-correlation; colour distance for flat, texture-less references).
* :func:`place_reference`: the reference resized into the box, blended with a feathered band
  inside the box edge where it would show a seam (``feather``, keeps the reference's colours; a
  reference that continues its surroundings is pasted as it is), or Poisson-blended with
  ``cv2.seamlessClone`` (``poisson`` / ``mixed``, which adapts colours to the surroundings).
* :func:`make_layer`: what a designer does with a reference: fit it inside the box keeping its aspect
  ratio (centred), leave its own plain background out (estimated from its border, made transparent
  with a soft edge) and feather only where it would show a seam; the result is an RGBA layer the
  design keeps (``fashionedit.flats.layers``).
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
AVOID_OVERLAP = 0.1  # a found box may share at most this fraction of itself with an earlier placed layer
# Background of a reference: its border is "plain" when this share of border pixels lies within BG_TOLERANCE
# (max over RGB) of their median colour; pixels reached from the border within that tolerance are background.
BG_PLAIN_SHARE = 0.9
BG_TOLERANCE = 28.0
# A reference whose border continues the design under the box (mean step under this) is a crop of the design
# itself: it is placed as it is, background and all.
CONTINUES_DESIGN_STEP = 4.0
MIN_FOREGROUND_SHARE = 0.01  # less than this left after matting: the reference is a swatch, keep it whole


class Match(NamedTuple):
    box: PixelBox
    score: float  # 1.0 is a perfect match


def _flat(template: np.ndarray) -> bool:
    return float(template.reshape(-1, template.shape[-1]).std(axis=0).max()) < 2.0


def _avoid_mask(shape: tuple[int, int], tw: int, th: int, avoid: list[PixelBox], shrink: float) -> np.ndarray:
    """True at template positions whose box would cover more than AVOID_OVERLAP of itself with an ``avoid`` box."""
    rows, cols = shape
    if not avoid:
        return np.zeros(shape, bool)
    y0 = np.arange(rows, dtype=np.float32)[:, None]
    x0 = np.arange(cols, dtype=np.float32)[None, :]
    blocked = np.zeros(shape, bool)
    for box in avoid:
        bx0, by0, bx1, by1 = box.x0 * shrink, box.y0 * shrink, box.x1 * shrink, box.y1 * shrink
        overlap_w = np.clip(np.minimum(x0 + tw, bx1) - np.maximum(x0, bx0), 0, None)
        overlap_h = np.clip(np.minimum(y0 + th, by1) - np.maximum(y0, by0), 0, None)
        blocked |= overlap_w * overlap_h > AVOID_OVERLAP * tw * th
    return blocked


def find_box(
    image: np.ndarray, reference: np.ndarray, *, scales: int = MATCH_SCALES, avoid: list[PixelBox] | None = None
) -> Match:
    """Best box for ``reference`` in ``image`` (both HxWx3 uint8), over reference widths 5%-100% of the image.

    The reference keeps its aspect ratio. Scores are normalised cross-correlation in [-1, 1]; for a
    flat reference (no texture to correlate) ``1 - rms colour distance / 255``. Boxes that would lie
    mostly on an ``avoid`` box (a reference placed earlier) are never chosen: a second paste of the
    same reference would otherwise match the first one best and land on top of it.
    """
    height, width = image.shape[:2]
    shrink = min(1.0, MATCH_MAX_SIDE / max(height, width))
    small = (
        cv2.resize(image, (max(1, round(width * shrink)), max(1, round(height * shrink))), interpolation=cv2.INTER_AREA)
        if shrink < 1
        else image
    )
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
            scores = 1.0 - np.sqrt(np.maximum(sq, 0.0) / (tw * th * 3)) / 255.0
        else:
            scores = np.nan_to_num(cv2.matchTemplate(small_f, template, cv2.TM_CCOEFF_NORMED), nan=-1.0, posinf=-1.0, neginf=-1.0)
        blocked = _avoid_mask(scores.shape, tw, th, avoid or [], shrink)
        if blocked.all():
            continue
        scores = np.where(blocked, -2.0, scores).astype(np.float32)
        _, max_val, _, max_loc = cv2.minMaxLoc(scores)
        score, loc = float(max_val), max_loc
        # Near-ties go to the larger scale: a flat patch matches anywhere inside a flat area.
        if best is None or score >= best.score - 1e-3:
            x0, y0 = loc
            box = PixelBox(
                int(np.floor(x0 / shrink)),
                int(np.floor(y0 / shrink)),
                min(width, int(np.ceil((x0 + tw) / shrink))),
                min(height, int(np.ceil((y0 + th) / shrink))),
            )
            best = Match(box, score)
    if best is None:  # reference far wider/taller than the image allows: use the whole image
        return Match(PixelBox(0, 0, width, height), -1.0)
    return best


def fit_inside(reference_size: tuple[int, int], box: PixelBox) -> PixelBox:
    """The largest box of the reference's aspect ratio inside ``box``, centred in it (reference_size is (w, h))."""
    ref_w, ref_h = reference_size
    scale = min(box.width / ref_w, box.height / ref_h)
    width, height = max(1, min(box.width, round(ref_w * scale))), max(1, min(box.height, round(ref_h * scale)))
    x0 = box.x0 + (box.width - width) // 2
    y0 = box.y0 + (box.height - height) // 2
    return PixelBox(x0, y0, x0 + width, y0 + height)


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
        fade = np.maximum(fade, _edge_mismatch(patch[0], image[box.y0 - 1, box.x0 : box.x1], band)[None, :] * falloff(rows))
    if box.y1 < image_h:
        fade = np.maximum(
            fade, _edge_mismatch(patch[-1], image[box.y1, box.x0 : box.x1], band)[None, :] * falloff(height - 1 - rows)
        )
    if box.x0 > 0:
        fade = np.maximum(fade, _edge_mismatch(patch[:, 0], image[box.y0 : box.y1, box.x0 - 1], band)[:, None] * falloff(cols))
    if box.x1 < image_w:
        fade = np.maximum(
            fade, _edge_mismatch(patch[:, -1], image[box.y0 : box.y1, box.x1], band)[:, None] * falloff(width - 1 - cols)
        )
    return 1.0 - fade


def blend_into_box(image: np.ndarray, patch: np.ndarray, box: PixelBox, feather: float) -> np.ndarray:
    """``patch`` (box-sized) blended into ``image`` inside ``box``, faded at the sides where it would show a
    seam (:func:`seam_weights`); outside untouched."""
    band = int(round(feather * min(box.width, box.height)))
    weights = seam_weights(image, patch, box, band)[..., None]
    out = image.copy()
    region = out[box.y0 : box.y1, box.x0 : box.x1].astype(np.float32)
    out[box.y0 : box.y1, box.x0 : box.x1] = np.clip(
        weights * patch.astype(np.float32) + (1 - weights) * region + 0.5, 0, 255
    ).astype(np.uint8)
    return out


def _seamless(image: np.ndarray, patch: np.ndarray, box: PixelBox, mode: SeamMode) -> np.ndarray:
    # seamlessClone refuses masks that touch the destination's border: pad, clone, crop back.
    pad = 4
    dst = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    src = np.zeros_like(dst)
    src[box.y0 + pad : box.y1 + pad, box.x0 + pad : box.x1 + pad] = patch
    mask = np.zeros(dst.shape[:2], np.uint8)
    mask[box.y0 + pad : box.y1 + pad, box.x0 + pad : box.x1 + pad] = 255
    center = ((box.x0 + box.x1) // 2 + pad, (box.y0 + box.y1) // 2 + pad)
    flag = cv2.NORMAL_CLONE if mode == "poisson" else cv2.MIXED_CLONE
    cloned = cv2.seamlessClone(src, dst, mask, center, flag)[pad:-pad, pad:-pad]
    out = image.copy()
    out[box.y0 : box.y1, box.x0 : box.x1] = cloned[box.y0 : box.y1, box.x0 : box.x1]
    return out


def place_reference(
    image: np.ndarray, reference: np.ndarray, box: PixelBox, *, seam: SeamMode = "feather", feather: float = 0.08
) -> np.ndarray:
    """The design with ``reference`` placed into ``box`` (HxWx3 uint8 arrays); only the box changes."""
    patch = fit_reference(reference, box)
    if seam == "feather" or box.width < 3 or box.height < 3:
        return blend_into_box(image, patch, box, feather)
    return _seamless(image, patch, box, seam)


class Background(NamedTuple):
    color: tuple[int, int, int]
    alpha: np.ndarray  # HxW float32, 0 on the background, 1 on the reference's subject


def plain_background(reference: np.ndarray) -> Background | None:
    """The reference's own plain background (from its border), as a soft alpha matte; None when it has none.

    Only the background connected to the border is removed (a flood fill within BG_TOLERANCE), so a
    white logo detail enclosed by the subject stays.
    """
    height, width = reference.shape[:2]
    if height < 4 or width < 4:
        return None
    border = np.concatenate([reference[0], reference[-1], reference[:, 0], reference[:, -1]]).astype(np.float32)
    median = np.median(border, axis=0)
    if float((np.abs(border - median).max(axis=1) <= BG_TOLERANCE).mean()) < BG_PLAIN_SHARE:
        return None
    distance = np.abs(reference.astype(np.float32) - median).max(axis=-1)
    near = (distance <= BG_TOLERANCE).astype(np.uint8)
    count, labels = cv2.connectedComponents(near, connectivity=4)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, edge_labels[edge_labels > 0]) & (near > 0)
    if float((~background).mean()) < MIN_FOREGROUND_SHARE:
        return None  # all background: a colour swatch, which is its own subject
    # soft edge: the background and a 2-pixel band around it (the subject's anti-aliased rim, part background)
    # fade in by how far their colour is from the background's
    rim = cv2.dilate(background.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2) > 0
    soft = np.clip((distance - BG_TOLERANCE / 2) / (3.5 * BG_TOLERANCE), 0.0, 1.0)
    alpha = np.where(background, 0.5 * soft, np.where(rim, soft, 1.0)).astype(np.float32)
    r, g, b = (int(round(v)) for v in median)
    return Background((r, g, b), alpha)


class Layer(NamedTuple):
    rgba: np.ndarray  # hxwx4 uint8, the placed pixels
    box: PixelBox  # where they go on the design
    background: tuple[int, int, int] | None  # the reference background left out, if any


def make_layer(
    image: np.ndarray,
    reference: np.ndarray,
    box: PixelBox,
    *,
    feather: float = 0.08,
    keep_aspect: bool = True,
    remove_background: bool = True,
) -> Layer:
    """The reference as a designer places it into ``box`` of ``image`` (HxWx3 uint8): an RGBA layer.

    Fitted inside the box with its aspect ratio kept (centred); its own plain background made
    transparent, unless its border continues the design under the box (a crop of the design itself,
    placed as it is); faded at the sides where it would meet the design with a visible step.
    """
    target = fit_inside((reference.shape[1], reference.shape[0]), box) if keep_aspect else box
    patch = fit_reference(reference, target)
    alpha = None
    background = None
    if remove_background:
        found = plain_background(patch)
        if found is not None:
            under = image[target.y0 : target.y1, target.x0 : target.x1].astype(np.float32)
            ring = np.ones(patch.shape[:2], bool)
            ring[1:-1, 1:-1] = False
            step = float(np.abs(patch.astype(np.float32) - under).max(axis=-1)[ring].mean())
            if step >= CONTINUES_DESIGN_STEP:
                alpha, background = found.alpha, found.color
                # the soft edge mixes subject and background colours: take the background out of it, or the old
                # card colour shows as a halo on whatever the design is under it (now or after a re-render)
                a = np.clip(alpha, 1e-3, 1.0)[..., None]
                bg = np.array(found.color, np.float32)
                patch = np.clip((patch.astype(np.float32) - (1 - a) * bg) / a + 0.5, 0, 255).astype(np.uint8)
    if alpha is None:
        band = int(round(feather * min(target.width, target.height)))
        alpha = seam_weights(image, patch, target, band)
    rgba = np.dstack([patch, np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)])
    return Layer(rgba, target, background)


def lay(image: np.ndarray, layer: Layer) -> np.ndarray:
    """``image`` with ``layer`` alpha-blended in; pixels outside its box untouched."""
    box = layer.box
    out = image.copy()
    alpha = layer.rgba[..., 3:4].astype(np.float32) / 255.0
    region = out[box.y0 : box.y1, box.x0 : box.x1].astype(np.float32)
    out[box.y0 : box.y1, box.x0 : box.x1] = np.clip(alpha * layer.rgba[..., :3] + (1 - alpha) * region + 0.5, 0, 255).astype(
        np.uint8
    )
    return out
