"""The offline default: technical flats drawn from the prompt, with the drawn attributes in the PNG."""

from __future__ import annotations

import numpy as np

from fashionedit.contracts import GarmentAttributes, UpperType
from fashionedit.flats import read_attributes
from fashionedit.services.generator.backends.base import ImageJob, RenderSettings
from fashionedit.services.generator.backends.flats import FlatsBackend

SIZE = RenderSettings(128, 160, steps=28, guidance=7.0)
PROMPT = "The lady wears a long-sleeve white blazer with a lapel neckline."


def test_same_prompt_and_seed_give_the_same_flat() -> None:
    backend = FlatsBackend()
    a = backend.generate(SIZE, [ImageJob(PROMPT, "", 5)])[0]
    b = backend.generate(SIZE, [ImageJob(PROMPT, "", 5)])[0]
    assert a.size == (128, 160)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_the_prompt_decides_the_garment_and_nothing_unrequested_is_drawn() -> None:
    backend = FlatsBackend()
    images = backend.generate(SIZE, [ImageJob(PROMPT, "", seed) for seed in range(6)])
    drawn = [read_attributes(image) for image in images]
    assert all(isinstance(attrs, GarmentAttributes) for attrs in drawn)
    assert {attrs.upper.type for attrs in drawn} == {UpperType.BLAZER}  # said in the prompt: fixed
    assert {attrs.upper.color.value for attrs in drawn} == {"white"}
    # not said: the blazer's typical construction, and no pattern, pockets or belt nobody asked for
    assert {attrs.upper.pattern.value for attrs in drawn} == {"pure color"}
    assert {attrs.upper.pockets.count for attrs in drawn} == {0} and not any(attrs.belt.present for attrs in drawn)
    assert all(attrs.upper.buttons.count for attrs in drawn)  # a blazer closes with buttons


def test_an_unsaid_colour_varies_with_the_seed() -> None:
    drawn = [
        read_attributes(image) for image in FlatsBackend().generate(SIZE, [ImageJob("a blazer", "", seed) for seed in range(6)])
    ]
    assert len({attrs.upper.color for attrs in drawn}) > 1


def test_a_small_logo_on_the_chest_is_drawn_small_in_its_colour_on_a_plain_tee() -> None:
    backend = FlatsBackend()
    prompt = "white cotton t-shirt with a small blue logo on the chest"
    [image] = backend.generate(RenderSettings(256, 256, steps=28, guidance=7.0), [ImageJob(prompt, "", 3)])
    upper = read_attributes(image).upper
    assert (upper.type.value, upper.color.value, upper.sleeve.value, upper.pattern_color.value) == (
        "t-shirt",
        "white",
        "short",
        "blue",
    )
    assert upper.graphic_size.value == "small" and upper.pockets.count == 0 and upper.buttons.count == 0
    pixels = np.asarray(image, np.int16)
    blue = pixels[..., 2] - pixels[..., 0] > 80
    ys, xs = np.nonzero(blue)
    assert 0 < blue.mean() < 0.01  # a small mark, not a print across the front
    assert xs.mean() > 128 and ys.mean() < 128  # on the wearer's left chest (the viewer's upper right)
    assert backend.warnings(prompt, "", None) == []


def test_approximations_and_missing_garment_types_are_warned() -> None:
    notes = FlatsBackend().warnings("a kimono with dragon embroidery", "", None)
    assert any("kimono" in note and "approximated" in note for note in notes)
    assert any("embroidery" in note for note in notes) and any("dragon" in note and "does not draw" in note for note in notes)
    assert any("no garment type" in note for note in FlatsBackend().warnings("something nice in blue", "", None))


def test_model_info_is_the_offline_profile() -> None:
    info = FlatsBackend().model_info
    assert info.backend == "flats" and info.offline and not info.random_weights
    assert info.weights is not None and info.weights.source == "none"


def test_warnings_name_the_words_flats_could_not_use() -> None:
    backend = FlatsBackend()
    notes = backend.warnings("a white blazer with a zorblax trim and a hat", "blurry", None)
    assert any("zorblax" in note for note in notes)
    assert any("hat" in note and "does not draw" in note for note in notes)
    assert any("negative_prompt" in note for note in notes)
    assert backend.warnings(PROMPT, "", None) == []
