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
    crop = original[box.y0:box.y1, box.x0:box.x1]
    out = placement.place_reference(draft, crop, box, seam="feather", feather=0.08)
    assert np.array_equal(out, original)


def test_a_patch_unlike_its_surroundings_is_faded_at_its_sides() -> None:
    image = scene()
    box = PixelBox(60, 40, 100, 80)
    patch = np.full((40, 40, 3), (250, 210, 30), np.uint8)  # a bright square on navy: a step on every side
    out = placement.place_reference(image, patch, box, seam="feather", feather=0.2)
    inside = out[box.y0:box.y1, box.x0:box.x1].astype(int)
    assert np.array_equal(inside[16:24, 16:24], patch[16:24, 16:24])  # the core is the patch
    edge = np.abs(inside[0] - patch[0]).mean()
    assert edge > 50  # the outermost row is mostly the image
    outside = np.ones(image.shape[:2], bool)
    outside[box.y0:box.y1, box.x0:box.x1] = False
    assert np.array_equal(out[outside], image[outside])


def test_only_the_sides_with_a_step_are_faded() -> None:
    """The patch continues the image across its left side and breaks it on the right."""
    image = np.full((60, 100, 3), 128, np.uint8)
    box = PixelBox(20, 10, 80, 50)
    patch = np.full((40, 60, 3), 128, np.uint8)
    patch[:, 30:] = 250  # right half bright: a step against the grey beyond the right side
    out = placement.place_reference(image, patch, box, seam="feather", feather=0.25).astype(int)
    inside = out[box.y0:box.y1, box.x0:box.x1]
    assert np.array_equal(inside[:, :30], patch[:, :30].astype(int))  # left half pasted as is
    assert inside[20, -1, 0] < 200 and inside[20, 40, 0] == 250  # right side faded, its inner part not


def test_sides_on_the_image_border_have_no_seam() -> None:
    image = np.full((40, 40, 3), 20, np.uint8)
    patch = np.full((40, 40, 3), 220, np.uint8)
    out = placement.place_reference(image, patch, PixelBox(0, 0, 40, 40), seam="feather", feather=0.25)
    assert np.array_equal(out, patch)
