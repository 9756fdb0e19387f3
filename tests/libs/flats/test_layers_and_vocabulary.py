"""Design state (placed layers in the PNG), the print/collar vocabulary, and caption-set coverage."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import Box2D
from fashionedit.contracts.garment import GarmentAttributes, GraphicSize, Pattern, UpperGarment, UpperType
from fashionedit.flats import complete_attributes, layers, parse_caption, parse_instruction, render_flat, to_png_bytes
from fashionedit.flats.parser import strip_reference_words

CAPTIONS = Path(__file__).resolve().parents[3] / "benchmarks" / "data" / "flats_captions.json"


def checker_layer(box: Box2D, anchor=None, anchor_box=None) -> layers.PlacedLayer:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 220
    rgba[..., 3] = 255
    return layers.PlacedLayer(box_2d=box, png=layers.encode_layer_pixels(rgba), anchor=anchor, anchor_box=anchor_box)


def test_layers_round_trip_through_png_and_only_their_box_changes() -> None:
    attrs = complete_attributes(GarmentAttributes(upper=UpperGarment(type=UpperType.T_SHIRT)), 0)
    box = Box2D((400.0, 400.0, 500.0, 500.0))
    anchor, anchor_box = layers.anchor_for(box, attrs, (200, 200))
    assert anchor == "body"
    image, placed, notes = layers.render_design(attrs, [checker_layer(box, anchor, anchor_box)], (200, 200))
    assert notes == []
    with Image.open(io.BytesIO(to_png_bytes(image))) as opened:
        read = layers.read_layers(dict(opened.text))
    assert read == placed
    flat = np.asarray(render_flat(attrs, (200, 200)), np.int16)
    diff = np.abs(np.asarray(image, np.int16) - flat).max(axis=-1)
    assert (diff[80:100, 80:100] > 50).all() and diff.sum() == diff[80:100, 80:100].sum()


def test_a_layer_moves_with_its_part_and_stays_when_its_part_is_gone() -> None:
    tee = complete_attributes(GarmentAttributes(upper=UpperGarment(type=UpperType.T_SHIRT, sleeve="long")), 0)
    boxes_on = layers.part_boxes(tee, (200, 200))
    sleeve = boxes_on["left_sleeve"]
    centre = ((sleeve.ymin + sleeve.ymax) / 2, (sleeve.xmin + sleeve.xmax) / 2)
    box = Box2D((centre[0] - 20, centre[1] - 20, centre[0] + 20, centre[1] + 20))
    layer = checker_layer(box, "left_sleeve", sleeve)
    sleeveless = tee.model_copy(update={"upper": tee.upper.model_copy(update={"sleeve": "sleeveless"})})
    kept, notes = layers.relocate([layer], sleeveless, (200, 200))
    assert kept[0].box_2d == box and "left sleeve" in notes[0]


def test_a_broken_layer_record_reads_as_no_layers() -> None:
    assert layers.read_layers({layers.LAYERS_KEY: "not json"}) == []
    assert layers.read_layers({layers.LAYERS_KEY: json.dumps([{"box_2d": [0, 0, 10, 10]}])}) == []


def test_big_layers_are_kept_under_the_png_text_chunk_limit() -> None:
    noise = np.random.default_rng(0).integers(0, 255, (900, 900, 4), dtype=np.uint8)
    text = layers.encode_layer_pixels(noise)
    assert len(text) <= layers.MAX_LAYER_CHARS
    with Image.open(io.BytesIO(base64.b64decode(text))) as img:
        assert img.mode == "RGBA" and img.width < 900


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("change the neckline to v-neck like this sketch", "change the neckline to v-neck"),
        ("add this logo on the chest", "add on the chest"),
        ("make this shirt red", "make this shirt red"),
        ("a pocket as in the reference image", "a pocket"),
    ],
)
def test_words_pointing_at_the_reference_are_left_to_it(text: str, expected: str) -> None:
    assert strip_reference_words(text) == expected


def test_a_small_logo_on_the_chest_is_a_small_print_in_its_own_colour() -> None:
    upper = parse_caption("white cotton t-shirt with a small blue logo on the chest").attributes.upper
    assert (upper.type, upper.color.value, upper.pattern, upper.pattern_color.value) == (
        UpperType.T_SHIRT,
        "white",
        Pattern.GRAPHIC,
        "blue",
    )
    assert upper.graphic_size is GraphicSize.SMALL and upper.pockets is None
    assert parse_caption("a red floral print dress").attributes.upper.pattern is Pattern.FLORAL
    assert parse_caption("a navy graphic tee").attributes.upper.color.value == "navy"
    assert parse_caption("a white tee with a blue graphic print").attributes.upper.pattern_color.value == "blue"


def test_plain_completion_adds_nothing_unrequested() -> None:
    parsed = parse_caption("red wool coat with a wide collar and two pockets")
    for seed in range(8):
        done = complete_attributes(parsed.attributes, seed, unrequested="plain")
        assert done.upper.pattern is Pattern.PURE_COLOR and not done.belt.present and done.upper.pockets.count == 2
    assert "wide" in parsed.ignored_words or "wide" not in parsed.unknown_words


def test_approximations_are_noted_and_instruction_type_changes_read() -> None:
    parsed = parse_caption("a kimono with dragon embroidery")
    assert any("kimono" in n for n in parsed.notes) and any("embroidery" in n for n in parsed.notes)
    assert "dragon" in parsed.ignored_words
    tee = GarmentAttributes(upper=UpperGarment(type=UpperType.T_SHIRT))
    assert parse_instruction("make it a dress", tee).attributes.upper.type is UpperType.DRESS
    assert parse_instruction("make the shirt red", tee).attributes.upper.type is UpperType.T_SHIRT


def test_round_neck_collar_requests_add_a_collar_with_a_note() -> None:
    coat = GarmentAttributes(upper=UpperGarment(type=UpperType.COAT, neckline="round"))
    result = parse_instruction("add a white collar", coat)
    assert result.attributes.upper.neckline.value == "lapel" and result.attributes.upper.collar_color.value == "white"
    assert result.notes and "round neckline has no collar" in result.notes[0]


def test_the_caption_set_is_understood() -> None:
    """Regression guard over benchmarks/data/flats_captions.json (figures in docs/flats.md)."""
    groups = json.loads(CAPTIONS.read_text())
    assert len(groups["deepfashion_style"]) >= 100
    for caption in groups["deepfashion_style"] + groups["customer"]:
        assert parse_caption(caption).unknown_words == [], caption


def test_the_labelled_captions_are_read_back() -> None:
    """Every garment value a DeepFashion-style caption states is what the parser reads (figures in docs/flats.md)."""
    data = json.loads(CAPTIONS.read_text())
    misses = []
    for caption, labels in zip(data["deepfashion_style"], data["deepfashion_style_labels"]):
        attrs = parse_caption(caption).attributes
        for field, value in labels.items():
            piece, _, name = field.partition(".")
            garment = getattr(attrs, piece)
            got = getattr(garment, name, None) if garment is not None else None
            if getattr(got, "value", got) != value:
                misses.append((field, value, caption))
    assert misses == []
