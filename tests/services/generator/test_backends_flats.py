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


def test_the_prompt_decides_the_garment_and_the_seed_fills_the_rest() -> None:
    backend = FlatsBackend()
    images = backend.generate(SIZE, [ImageJob(PROMPT, "", seed) for seed in range(6)])
    drawn = [read_attributes(image) for image in images]
    assert all(isinstance(attrs, GarmentAttributes) for attrs in drawn)
    assert {attrs.upper.type for attrs in drawn} == {UpperType.BLAZER}  # said in the prompt: fixed
    assert {attrs.upper.color.value for attrs in drawn} == {"white"}
    unsaid = {attrs.model_dump_json(include={"upper": {"fabric", "buttons", "pockets", "hem"}, "lower": True}) for attrs in drawn}
    assert len(unsaid) > 1  # not said: varies with the seed


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
