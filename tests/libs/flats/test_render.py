"""The flat renderer: determinism, metadata, part boxes, and changes staying inside their part."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import Box2D, encode_image
from fashionedit.contracts.garment import GarmentAttributes, Pattern, UpperType
from fashionedit.flats import (
    METADATA_KEY,
    change_box,
    complete_attributes,
    parse_caption,
    parse_instruction,
    part_boxes,
    read_attributes,
    render_flat,
    to_png_bytes,
)
from fashionedit.flats.synthetic import DIFFERENCE_KINDS, plant_difference

SMALL = (160, 236)  # the 750x1101 aspect, small enough for many renders on 2 cores


def _pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img).astype(np.int16)


def test_same_attributes_same_bytes() -> None:
    attrs = complete_attributes(GarmentAttributes(), 3)
    first, second = render_flat(attrs, (256, 256)), render_flat(attrs, (256, 256))
    assert first.mode == "RGB" and first.size == (256, 256)
    assert first.tobytes() == second.tobytes()
    assert to_png_bytes(first) == to_png_bytes(second)


def test_default_size_and_any_size() -> None:
    attrs = complete_attributes(GarmentAttributes(), 0)
    assert render_flat(attrs).size == (1024, 1024)
    wide = render_flat(attrs, (300, 120))
    assert wide.size == (300, 120)
    assert (_pixels(wide) < 250).any()  # something was drawn


def test_bad_size_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        render_flat(GarmentAttributes(), (0, 10))


def test_metadata_survives_encode_image_and_reads_back() -> None:
    attrs = parse_caption("a navy linen blazer with four gold buttons").attributes
    img = render_flat(attrs, (128, 128))
    drawn = read_attributes(img)
    assert drawn is not None and drawn.upper.type is UpperType.BLAZER and drawn.upper.buttons.count == 4
    for data in (encode_image(img), to_png_bytes(img)):
        assert read_attributes(data) == drawn
        with Image.open(io.BytesIO(data)) as reopened:
            assert METADATA_KEY in reopened.text
            # re-rendering from the carried attributes gives the same picture
            assert render_flat(read_attributes(reopened), (128, 128)).tobytes() == img.tobytes()


def test_images_without_metadata_have_no_attributes() -> None:
    plain = Image.new("RGB", (8, 8), "white")
    assert read_attributes(plain) is None
    assert read_attributes(encode_image(plain)) is None
    assert read_attributes(b"not an image") is None


def test_part_boxes_cover_the_garment_and_sit_where_parts_are() -> None:
    attrs = parse_caption(
        "This lady is wearing a long-sleeve navy shirt. It has five white buttons down the front. "
        "It has two patch pockets on the chest. She wears long khaki trousers. There is a brown belt around the waist."
    ).attributes
    size = (400, 400)
    boxes = part_boxes(attrs, size)
    for name in (
        "upper",
        "body",
        "left_sleeve",
        "right_sleeve",
        "sleeves",
        "neckline",
        "buttons",
        "pockets",
        "hem",
        "lower",
        "belt",
        "garment",
    ):
        assert isinstance(boxes[name], Box2D), name
    # the wearer's left sleeve is on the viewer's right; the upper sits above the lower; the neckline is at the top
    assert boxes["left_sleeve"].xmin > boxes["right_sleeve"].xmin
    assert boxes["upper"].ymax < boxes["lower"].ymax and boxes["neckline"].ymin < boxes["buttons"].ymin
    assert boxes["garment"].contains(boxes["upper"]) and boxes["garment"].contains(boxes["lower"])
    # every non-white pixel is inside the garment box
    ink = (_pixels(render_flat(attrs, size)) < 250).any(axis=2)
    ys, xs = np.nonzero(ink)
    box = boxes["garment"].to_pixels(*size)
    assert xs.min() >= box.x0 and xs.max() < box.x1 and ys.min() >= box.y0 and ys.max() < box.y1


def _changed(a: Image.Image, b: Image.Image) -> np.ndarray:
    return (np.abs(_pixels(a) - _pixels(b)) > 0).any(axis=2)


def _assert_inside(changed: np.ndarray, box: Box2D, size: tuple[int, int], label: str) -> None:
    assert changed.any(), f"{label}: the change altered no pixel"
    pixel = box.to_pixels(*size)
    ys, xs = np.nonzero(changed)
    outside = ~((xs >= pixel.x0) & (xs < pixel.x1) & (ys >= pixel.y0) & (ys < pixel.y1))
    assert not outside.any(), f"{label}: {int(outside.sum())} changed pixels outside {box.to_list()}"


@pytest.mark.parametrize("seed", range(12))
def test_each_attribute_change_stays_inside_its_part(seed: int) -> None:
    original = complete_attributes(GarmentAttributes(), seed)
    base = render_flat(original, SMALL)
    rng = random.Random(seed)
    for kind in DIFFERENCE_KINDS:
        planted = plant_difference(original, kind, rng)
        if planted is None:
            continue
        changed_attrs, field, parts = planted
        box = change_box(original, changed_attrs, parts, SMALL)
        _assert_inside(_changed(base, render_flat(changed_attrs, SMALL)), box, SMALL, f"seed {seed} {field}")


@pytest.mark.parametrize(
    "instruction",
    [
        "make the sleeves short",
        "add two flap pockets at the hips",
        "make the buttons red",
        "change the neckline to turtleneck",
        "make the hem ribbed",
        "add a black belt",
        "make the collar white",
    ],
)
def test_instruction_edits_land_on_their_part(instruction: str) -> None:
    original = complete_attributes(
        parse_caption("a long-sleeve white shirt with six navy buttons down the front and long black trousers").attributes, 0
    )
    result = parse_instruction(instruction, original)
    assert result.changes, instruction
    parts = sorted(
        {c.part for c in result.changes} | ({"neckline"} if any(c.part == "collar" for c in result.changes) else set())
    )
    box = change_box(original, result.attributes, parts, SMALL)
    _assert_inside(_changed(render_flat(original, SMALL), render_flat(result.attributes, SMALL)), box, SMALL, instruction)


def test_fabrics_and_patterns_are_visible_as_fills() -> None:
    base = parse_caption("a white cotton t-shirt with pure color patterns").attributes
    size = (200, 200)
    plain = render_flat(base, size)
    body = part_boxes(base, size)["body"].to_pixels(*size)

    def body_pixels(img: Image.Image) -> np.ndarray:
        return _pixels(img)[body.y0 : body.y1, body.x0 : body.x1]

    for fabric in ("denim", "knitted", "furry", "leather"):
        textured = render_flat(parse_caption(f"a white {fabric} t-shirt with pure color patterns").attributes, size)
        assert np.abs(body_pixels(textured) - body_pixels(plain)).mean() > 1.0, fabric
    for pattern in Pattern:
        if pattern is Pattern.PURE_COLOR:
            continue
        patterned = render_flat(parse_caption(f"a white cotton t-shirt with {pattern.value} patterns in red").attributes, size)
        assert (body_pixels(patterned)[..., 1] < 120).mean() > 0.02, pattern  # red marks on white
