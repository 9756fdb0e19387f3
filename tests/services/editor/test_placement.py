"""Seams of the classical placement (``placement.py``): fade only where the pasted patch would show a step."""

from __future__ import annotations

import numpy as np
import pytest

from fashionedit.contracts.boxes import PixelBox

cv2 = pytest.importorskip("cv2")
placement = pytest.importorskip("fashionedit.services.editor.placement")


def scene(seed: int = 0) -> np.ndarray:
    """A shaded garment with stripes on a light sheet: content that runs across any box side."""
    rng = np.random.default_rng(seed)
    image = np.full((120, 160, 3), 245, np.uint8)
    image[20:110, 30:140] = (40, 60, 120)
    image[20:110:8, 30:140] = (230, 230, 230)
    noise = rng.integers(-4, 5, size=image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def test_the_originals_own_crop_restores_a_tight_box_exactly() -> None:
    """A draft differs inside a box; pasting the original's crop of that box back leaves no seam to fade."""
    original = scene()
    draft = original.copy()
    box = PixelBox(60, 40, 100, 80)
    draft[40:80, 60:100] = (200, 30, 40)  # a patch that changed colour, right up to the box sides
    crop = original[box.y0 : box.y1, box.x0 : box.x1]
    out = placement.place_reference(draft, crop, box, seam="feather", feather=0.08)
    assert np.array_equal(out, original)


def test_a_patch_unlike_its_surroundings_is_faded_at_its_sides() -> None:
    image = scene()
    box = PixelBox(60, 40, 100, 80)
    patch = np.full((40, 40, 3), (250, 210, 30), np.uint8)  # a bright square on navy: a step on every side
    out = placement.place_reference(image, patch, box, seam="feather", feather=0.2)
    inside = out[box.y0 : box.y1, box.x0 : box.x1].astype(int)
    assert np.array_equal(inside[16:24, 16:24], patch[16:24, 16:24])  # the core is the patch
    edge = np.abs(inside[0] - patch[0]).mean()
    assert edge > 50  # the outermost row is mostly the image
    outside = np.ones(image.shape[:2], bool)
    outside[box.y0 : box.y1, box.x0 : box.x1] = False
    assert np.array_equal(out[outside], image[outside])


def test_only_the_sides_with_a_step_are_faded() -> None:
    """The patch continues the image across its left side and breaks it on the right."""
    image = np.full((60, 100, 3), 128, np.uint8)
    box = PixelBox(20, 10, 80, 50)
    patch = np.full((40, 60, 3), 128, np.uint8)
    patch[:, 30:] = 250  # right half bright: a step against the grey beyond the right side
    out = placement.place_reference(image, patch, box, seam="feather", feather=0.25).astype(int)
    inside = out[box.y0 : box.y1, box.x0 : box.x1]
    assert np.array_equal(inside[:, :30], patch[:, :30].astype(int))  # left half pasted as is
    assert inside[20, -1, 0] < 200 and inside[20, 40, 0] == 250  # right side faded, its inner part not


def test_sides_on_the_image_border_have_no_seam() -> None:
    image = np.full((40, 40, 3), 20, np.uint8)
    patch = np.full((40, 40, 3), 220, np.uint8)
    out = placement.place_reference(image, patch, PixelBox(0, 0, 40, 40), seam="feather", feather=0.25)
    assert np.array_equal(out, patch)


def round_logo(card=(225, 225, 225), color=(200, 30, 40), diameter=40) -> np.ndarray:
    image = np.zeros((diameter + 16, diameter + 16, 3), np.uint8) + np.array(card, np.uint8)
    cv2.circle(image, (8 + diameter // 2, 8 + diameter // 2), diameter // 2, color, -1, lineType=cv2.LINE_AA)
    return image


def test_a_reference_keeps_its_aspect_ratio_centred_in_the_box() -> None:
    box = PixelBox(10, 20, 110, 60)  # 100 wide, 40 high
    fitted = placement.fit_inside((56, 56), box)
    assert (fitted.width, fitted.height) == (40, 40) and fitted.x0 == 40 and fitted.y0 == 20


def test_a_logo_on_a_plain_card_is_placed_without_its_card() -> None:
    image = scene()
    box = PixelBox(40, 30, 120, 70)
    layer = placement.make_layer(image, round_logo(), box)
    assert layer.background == (225, 225, 225)
    out = placement.lay(image, layer)

    def card(a: np.ndarray) -> float:
        return float((np.abs(a.astype(int) - 225).max(axis=-1) < 4)[box.y0 : box.y1, box.x0 : box.x1].mean())

    assert card(out) <= card(image) + 0.01  # no grey card around the logo
    red = np.abs(out.astype(int) - (200, 30, 40)).max(axis=-1) < 30
    ys, xs = np.nonzero(red)
    assert abs((np.ptp(ys) + 1) - (np.ptp(xs) + 1)) <= 2  # still round in a wide box
    outside = np.ones(image.shape[:2], bool)
    outside[box.y0 : box.y1, box.x0 : box.x1] = False
    assert np.array_equal(out[outside], image[outside])


def test_a_swatch_and_the_designs_own_crop_keep_their_pixels() -> None:
    image = scene()
    swatch = np.full((30, 30, 3), (250, 210, 30), np.uint8)
    assert placement.plain_background(swatch) is None  # all "background": the colour is the subject
    box = PixelBox(60, 40, 100, 80)
    crop = image[box.y0 : box.y1, box.x0 : box.x1]
    layer = placement.make_layer(image, crop, box)
    assert layer.background is None and np.array_equal(placement.lay(image, layer), image)


def test_matching_never_lands_on_a_reference_placed_before() -> None:
    image = scene()
    reference = np.full((20, 20, 3), (250, 210, 30), np.uint8)
    image[30:50, 40:60] = reference  # the earlier paste
    first = placement.find_box(image, reference)
    assert first.box.x0 == 40 and first.box.y0 == 30
    again = placement.find_box(image, reference, avoid=[first.box])
    overlap_w = max(0, min(again.box.x1, 60) - max(again.box.x0, 40))
    overlap_h = max(0, min(again.box.y1, 50) - max(again.box.y0, 30))
    assert overlap_w * overlap_h <= 0.1 * again.box.width * again.box.height
