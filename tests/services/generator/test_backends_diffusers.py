"""The diffusers backend on random-weight SD3 and SD2 folders, loaded through ``from_pretrained`` like real weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fashionedit.services.common import InvalidInput
from fashionedit.services.generator.backends.base import ImageJob, RenderSettings
from fashionedit.services.generator.backends.diffusers_pipeline import DiffusersBackend, WeightsUnavailable
from fashionedit.services.generator.settings import GeneratorSettings

from .conftest import TINY_SIDE

FAST = RenderSettings(TINY_SIDE, TINY_SIDE, steps=4, guidance=7.0)
LONG_PROMPT = "This lady wears a long-sleeve white wool blazer with a lapel neckline, two gold buttons and welt pockets. " * 6


@pytest.fixture(scope="module")
def sd3(tiny_sd3_dir: Path) -> DiffusersBackend:
    return DiffusersBackend.load(
        GeneratorSettings(backend="sd3", model=str(tiny_sd3_dir), device="cpu"), backend="sd3", model=str(tiny_sd3_dir)
    )


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_random_weight_folder_is_reported_as_such(sd3: DiffusersBackend, tiny_sd3_dir: Path) -> None:
    info = sd3.model_info
    assert info.random_weights and info.offline
    assert info.weights is not None and info.weights.source == "random" and info.weights.name == str(tiny_sd3_dir)
    assert (info.device, info.dtype) == ("cpu", "float32")  # auto dtype: float32 on a CPU


def test_same_seed_same_image_other_seed_other_image(sd3: DiffusersBackend) -> None:
    first = sd3.generate(FAST, [ImageJob("a red coat", "", 7)])[0]
    again = sd3.generate(FAST, [ImageJob("a red coat", "", 7)])[0]
    other = sd3.generate(FAST, [ImageJob("a red coat", "", 8)])[0]
    assert first.size == (TINY_SIDE, TINY_SIDE)
    assert np.array_equal(pixels(first), pixels(again))
    assert not np.array_equal(pixels(first), pixels(other))


def test_an_image_depends_on_its_own_seed_not_on_its_batch(sd3: DiffusersBackend) -> None:
    alone = sd3.generate(FAST, [ImageJob("a blue shirt", "", 11)])[0]
    batch = sd3.generate(FAST, [ImageJob("a red coat", "blurry", 3), ImageJob("a blue shirt", "", 11)])
    # Batched kernels may round differently in the last bit; the image is the same.
    assert np.abs(pixels(batch[1]) - pixels(alone)).max() <= 2


def test_prompt_truncation_reports_the_cut_the_pipeline_makes(sd3: DiffusersBackend) -> None:
    assert sd3.prompt_truncation("a white blazer") is None
    cut = sd3.prompt_truncation(LONG_PROMPT)
    assert cut is not None and cut.encoder == "clip" and cut.max_tokens == 77 and cut.token_count > 77
    tokenizer = sd3.pipe.tokenizer
    ids = tokenizer(LONG_PROMPT).input_ids
    assert cut.token_count == len(ids)
    removed = tokenizer.decode(ids[76:-1], clean_up_tokenization_spaces=False)  # what the pipeline logs as cut
    assert LONG_PROMPT.strip().endswith(cut.truncated_text)
    assert "".join(cut.truncated_text.lower().split()) == "".join(removed.split())
    assert "T5 reads up to 256 tokens" in sd3.warnings(LONG_PROMPT, "", cut)[0]  # tiny SD3 carries a (random) T5


def test_sizes_beyond_the_transformer_grid_are_refused(sd3: DiffusersBackend) -> None:
    # sd3-tiny: 96 patches x patch 2 x VAE factor 2 = 384 px; SD3-medium reaches 3072 (capped at 2048).
    assert sd3.max_side == 384
    sd3.check(RenderSettings(384, 64, 1, 1.0))
    with pytest.raises(InvalidInput, match="at most 384") as err:
        sd3.check(RenderSettings(64, 512, 1, 1.0))
    assert err.value.details[0].loc == ["height"]


def test_sd2_loads_through_the_same_code(tiny_sd2_dir: Path) -> None:
    backend = DiffusersBackend.load(
        GeneratorSettings(backend="sd2", model=str(tiny_sd2_dir), device="cpu"), backend="sd2", model=str(tiny_sd2_dir)
    )
    assert type(backend.pipe).__name__ == "StableDiffusionPipeline"
    assert backend.model_info.backend == "sd2" and backend.model_info.random_weights
    a, b = backend.generate(RenderSettings(TINY_SIDE, TINY_SIDE, 2, 7.0), [ImageJob("a coat", "", 1), ImageJob("a coat", "", 1)])
    assert np.abs(pixels(a) - pixels(b)).max() <= 2
    assert backend.prompt_truncation(LONG_PROMPT) is not None


def test_dropping_t5_loads_without_it_and_says_what_is_lost(tiny_sd3_dir: Path) -> None:
    settings = GeneratorSettings(backend="sd3", model=str(tiny_sd3_dir), device="cpu", drop_t5=True, channels_last_vae=True)
    backend = DiffusersBackend.load(settings, backend="sd3", model=str(tiny_sd3_dir))
    assert backend.pipe.text_encoder_3 is None and backend.pipe.tokenizer_3 is None
    assert backend.generate(RenderSettings(TINY_SIDE, TINY_SIDE, 1, 0.0), [ImageJob("a coat", "", 1)])[0].size == (
        TINY_SIDE,
        TINY_SIDE,
    )
    cut = backend.prompt_truncation(LONG_PROMPT)
    assert "no T5 encoder is loaded" in backend.warnings(LONG_PROMPT, "", cut)[0]


def test_a_folder_saved_without_t5_loads_without_extra_arguments(tmp_path: Path) -> None:
    # model_index.json then lists text_encoder_3 as [null, null], which diffusers only loads when told so.
    from fashionedit.tinymodels import save_sd3_pipeline

    folder = save_sd3_pipeline(tmp_path / "no-t5", "sd3-tiny", with_t5=False)
    backend = DiffusersBackend.load(GeneratorSettings(device="cpu"), backend="sd3", model=str(folder))
    assert backend.pipe.text_encoder_3 is None


def test_missing_hub_weights_offline_say_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    model = "stabilityai/stable-diffusion-3-medium-diffusers"
    with pytest.raises(WeightsUnavailable, match="HF_HUB_OFFLINE=1 forbids downloading") as err:
        DiffusersBackend.load(GeneratorSettings(backend="sd3", device="cpu"), backend="sd3", model=model)
    assert model in str(err.value) and "FASHIONEDIT_GENERATOR_MODEL" in str(err.value)


def test_a_folder_that_is_not_a_pipeline_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(WeightsUnavailable, match="no model_index.json"):
        DiffusersBackend.load(GeneratorSettings(device="cpu"), backend="sd3", model=str(tmp_path))


def test_cpu_offload_needs_cuda(tiny_sd3_dir: Path) -> None:
    with pytest.raises(WeightsUnavailable, match="needs a CUDA device"):
        DiffusersBackend.load(GeneratorSettings(device="cpu", cpu_offload="model"), backend="sd3", model=str(tiny_sd3_dir))
