"""The classical backend's parts: grouping changed pixels into changes, exact boxes, details under a
recolour, naming a fabric as lit, and JPEG noise. Scenes are drawn here, so each case is known exactly."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from fashionedit.contracts import AnalyzeRequest, Box2D
from fashionedit.contracts.garment import ColorName, GarmentAttributes
from fashionedit.services.analyzer import colours
from fashionedit.services.analyzer.backends import details
from fashionedit.services.analyzer.serving import AnalyzerServing
from fashionedit.services.analyzer.settings import AnalyzerSettings

from .helpers import payload

SIZE = (750, 1000)  # larger than the working size (384), so boxes go through the full-size refinement
FABRIC, OUTLINE = (40, 60, 120), (25, 25, 28)


@pytest.fixture(scope="module")
def serving() -> AnalyzerServing:
    return AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[]))


def garment(fill: tuple[int, int, int] = FABRIC) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((150, 150, 600, 900), fill=fill, outline=OUTLINE, width=3)
    return image, draw


def buttons(draw: ImageDraw.ImageDraw, colour: tuple[int, int, int], ys: list[int], x: int = 375, radius: int = 7) -> Box2D:
    for y in ys:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    return Box2D.from_pixels((x - radius, min(ys) - radius, x + radius + 1, max(ys) + radius + 1), *SIZE)


def analyze(serving: AnalyzerServing, original: Image.Image, generated: Image.Image, k: int = 3):
    return serving.analyze(
        AnalyzeRequest(original=payload(original), generated=payload(generated), k=k, include_crops=False)
    ).differences


def best_iou(truth: Box2D, found) -> float:
    return max((d.box_2d.iou(truth) for d in found), default=0.0)


def test_a_button_row_beside_a_new_neckline_is_a_change_of_its_own(serving) -> None:
    """The top button sits 14 pixels (5 working pixels) under the new V neckline: close, but far smaller, so not
    joined to it."""
    original, draw = garment()
    row = buttons(draw, (235, 235, 235), [330, 400, 470, 540])
    generated, draw = garment()
    draw.polygon([(250, 150), (500, 150), (375, 309)], fill=(200, 200, 200), outline=OUTLINE)
    neckline = Box2D.from_pixels((248, 150, 503, 311), *SIZE)
    found = analyze(serving, original, generated)
    assert best_iou(neckline, found) >= 0.8, [d.box_2d for d in found]
    assert best_iou(row, found) >= 0.8, [d.box_2d for d in found]


def test_a_pocket_beside_a_button_row_of_the_same_colours_stays_apart(serving) -> None:
    """Alike pieces (the buttons) are one change; the pocket has their colours but not their size or shape."""
    original, draw = garment()
    row = buttons(draw, OUTLINE, [300, 380, 460, 540, 620])
    draw.rectangle((410, 430, 520, 560), outline=OUTLINE, width=3)
    pocket = Box2D.from_pixels((410, 430, 521, 561), *SIZE)
    generated, _ = garment()
    found = analyze(serving, original, generated)
    assert len(found) == 2, [d.box_2d for d in found]
    assert best_iou(row, found) >= 0.8 and best_iou(pocket, found) >= 0.8, [d.box_2d for d in found]


def assert_within_a_pixel(found: Box2D, truth: Box2D) -> None:
    got, want = found.to_pixels(*SIZE), truth.to_pixels(*SIZE)
    assert max(abs(got.x0 - want.x0), abs(got.y0 - want.y0), abs(got.x1 - want.x1), abs(got.y1 - want.y1)) <= 1, (got, want)


def test_a_small_change_is_boxed_to_the_pixel_at_full_size(serving) -> None:
    """A 37x29 patch at 750x1000 is 14x11 working pixels, each 2.6 of the original's; the box is re-measured at full size."""
    original, draw = garment()
    draw.rectangle((402, 611, 438, 639), fill=(240, 200, 40))
    generated, _ = garment()
    (found,) = analyze(serving, original, generated, k=1)
    assert_within_a_pixel(found.box_2d, Box2D.from_pixels((402, 611, 439, 640), *SIZE))


def test_a_single_button_is_found_once_the_smallest_region_allows_it() -> None:
    """By default a change must span ~4 % of the image's side (classical_min_region); one 15-pixel button does not."""
    original, draw = garment()
    truth = buttons(draw, (240, 200, 40), [500])
    generated, _ = garment()
    assert analyze(AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[])), original, generated) == []
    fine = AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[], classical_min_region=0.0002))
    (found,) = analyze(fine, original, generated, k=1)
    assert_within_a_pixel(found.box_2d, truth)


def test_buttons_changed_under_a_recolour_are_found(serving) -> None:
    """Red shirt -> purple with the same black outline; its black buttons turn white. The recolour mapping keeps
    black (the outline's colour, and too rare to be a fabric) mapped to black, so the white buttons stand out."""
    red, purple = (196, 32, 40), (105, 48, 145)
    original, draw = garment(red)
    row = buttons(draw, (20, 20, 22), [300, 380, 460, 540])
    generated, draw = garment(purple)
    buttons(draw, (248, 248, 245), [300, 380, 460, 540])
    found = analyze(serving, original, generated)
    assert best_iou(Box2D.from_pixels((150, 150, 601, 901), *SIZE), found) >= 0.8
    assert best_iou(row, found) >= 0.6, [(d.box_2d, d.description) for d in found]


def test_recolour_residual_follows_fabrics_and_keeps_rare_colours() -> None:
    fabric_o, fabric_g, black, white = (196, 32, 40), (105, 48, 145), (20, 20, 22), (248, 248, 245)
    rgb_o = np.full((60, 60, 3), fabric_o, np.uint8)
    rgb_g = np.full((60, 60, 3), fabric_g, np.uint8)
    rgb_o[:, :2] = rgb_g[:, :2] = black  # an outline that stays black
    rgb_o[30:33, 30:33] = black  # a button that turns white
    rgb_g[30:33, 30:33] = white
    shade = rgb_o.astype(np.float32)
    shade[40:, 2:] *= 0.8  # a shaded fold of the fabric follows the fabric's recolour
    rgb_o = shade.astype(np.uint8)
    shade_g = rgb_g.astype(np.float32)
    shade_g[40:, 2:] *= 0.8
    rgb_g = shade_g.astype(np.uint8)
    lab_o, lab_g = colours.to_lab(rgb_o), colours.to_lab(rgb_g)
    everywhere = np.ones((60, 60), bool)
    residual = details.recolour_residual(lab_o, lab_g, everywhere, everywhere)
    assert residual[30:33, 30:33].min() > details.RESIDUAL_DELTA_E  # the button
    assert residual[:, :2].max() < 1.0  # the outline
    assert np.percentile(residual[:40, 2:], 99) < 10 and np.percentile(residual[40:, 2:], 99) < 10  # fabric, lit and shaded


def test_a_textured_fabric_is_named_as_lit_not_as_its_median() -> None:
    rng = np.random.default_rng(0)
    cream = np.array(colours.REFERENCE_RGB[ColorName.CREAM], np.float32)
    weave = rng.uniform(0.72, 1.0, size=(2000, 1))  # weave and folds only darken
    pixels = colours.to_lab(np.clip(cream * weave, 0, 255).astype(np.uint8)[None])[0]
    lit = colours.lit_colour(pixels)
    assert colours.name_lab(lit)[0] is ColorName.CREAM
    assert lit[0] > np.median(pixels[:, 0])
    # A print on the fabric is not the fabric: 30 % white stripes on navy stay navy.
    navy = np.repeat(np.array([colours.REFERENCE_RGB[ColorName.NAVY]], np.uint8), 700, axis=0)
    stripes = np.repeat(np.array([colours.REFERENCE_RGB[ColorName.WHITE]], np.uint8), 300, axis=0)
    printed = colours.to_lab(np.concatenate([navy, stripes])[None])[0]
    assert colours.name_lab(colours.lit_colour(printed))[0] is ColorName.NAVY


@pytest.mark.parametrize("seed", range(8))
def test_jpeg_compression_alone_is_no_difference(serving, seed: int) -> None:
    """An original stored as JPEG (q95) against the same flat as PNG: stitching and outlines ring, nothing changed."""
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.flats.complete import complete_attributes

    flat = flats.render_flat(complete_attributes(GarmentAttributes(), seed), (750, 1101))
    jpeg = io.BytesIO()
    flat.save(jpeg, format="JPEG", quality=95)
    assert analyze(serving, Image.open(io.BytesIO(jpeg.getvalue())), flat) == []


def test_8bit_cielab_is_close_enough_for_thresholds() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    gap = np.linalg.norm(colours.to_lab_8bit(rgb) - colours.to_lab(rgb), axis=-1)
    assert gap.max() < 3.0 and np.percentile(gap, 99) < 1.0
