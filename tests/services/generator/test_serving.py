"""GeneratorServing in-process: seeds, readiness, limits, batching and failures, on flats and tiny."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from fashionedit.contracts import GenerateRequest
from fashionedit.contracts.generate import MAX_SEED
from fashionedit.services.common import InvalidInput, NotReady
from fashionedit.services.generator.backends.tiny import build_lock_path, tiny_pipeline_dir
from fashionedit.services.generator.serving import GeneratorServing, image_seeds
from fashionedit.services.generator.settings import GeneratorSettings

from .conftest import TINY_SIDE

PROMPT = "This gentleman wears a short-sleeve cotton shirt with pure color patterns and long denim trousers."


def request(**fields) -> GenerateRequest:
    return GenerateRequest(**{"prompt": PROMPT, "width": TINY_SIDE, "height": TINY_SIDE, "steps": 4, **fields})


def pixels(generated) -> np.ndarray:
    return np.asarray(generated.image.to_pil(), dtype=np.int16)


# -- flats (the default backend) -------------------------------------------------------------
@pytest.fixture(scope="module")
def flats() -> GeneratorServing:
    return GeneratorServing(GeneratorSettings(load_in_background=False))


def test_flats_is_the_default_backend(flats: GeneratorServing) -> None:
    assert GeneratorSettings().backend == "flats"
    response = flats.generate(request(seed=1))
    assert response.model.backend == "flats" and response.model.offline
    assert response.images[0].image.size == (TINY_SIDE, TINY_SIDE)
    assert "fashionedit:garment" in response.images[0].image.png_text()
    assert {"queue", "generate", "encode"} <= set(response.timings.stages)


def test_seeded_requests_repeat_exactly_and_each_image_has_its_seed(flats: GeneratorServing) -> None:
    first = flats.generate(request(seed=41, num_images=3))
    again = flats.generate(request(seed=41, num_images=3))
    assert [image.seed for image in first.images] == [41, 42, 43]
    assert [image.image.to_bytes() for image in first.images] == [image.image.to_bytes() for image in again.images]
    # Any image of a request can be made again alone from its returned seed.
    alone = flats.generate(request(seed=42))
    assert alone.images[0].image.to_bytes() == first.images[1].image.to_bytes()


def test_without_a_seed_one_is_drawn_and_returned(flats: GeneratorServing) -> None:
    drawn = flats.generate(request(num_images=2))
    base = drawn.images[0].seed
    assert [image.seed for image in drawn.images] == [base, (base + 1) % (MAX_SEED + 1)]
    replay = flats.generate(request(seed=base, num_images=2))
    assert [image.image.to_bytes() for image in replay.images] == [image.image.to_bytes() for image in drawn.images]


def test_seeds_wrap_at_the_contract_limit() -> None:
    assert image_seeds(MAX_SEED, 2) == [MAX_SEED, 0]


def test_info_describes_the_deployment(flats: GeneratorServing) -> None:
    info = flats.info()
    assert info.service == "generator" and info.ready and info.message is None
    assert info.model is not None and info.model.backend == "flats"
    assert {"flats", "sd3", "sd2", "tiny"} <= set(info.backends)
    assert info.limits["max_images"] == 8 and info.limits["side_multiple"] == 16


# -- tiny (random-weight SD3 through diffusers) -------------------------------------------------
@pytest.fixture(scope="module")
def tiny_loading(tmp_path_factory: pytest.TempPathFactory, tiny_sd3_dir: Path):
    """A tiny-backend serving whose start-up is held at the cache's build lock (another worker building)."""
    import shutil

    cache = tmp_path_factory.mktemp("serving-cache")
    shutil.copytree(tiny_sd3_dir, tiny_pipeline_dir(cache, "sd3-tiny"))
    lock = FileLock(str(build_lock_path(tiny_pipeline_dir(cache, "sd3-tiny"))))
    lock.acquire()
    settings = GeneratorSettings(backend="tiny", cache_dir=cache, device="cpu", max_batch_images=4, batch_wait_ms=200)
    serving = GeneratorServing(settings)
    yield serving, lock
    if lock.is_locked:
        lock.release()


@pytest.fixture(scope="module")
def tiny(tiny_loading) -> GeneratorServing:
    serving, lock = tiny_loading
    if lock.is_locked:
        lock.release()
    assert serving.model.wait(300)
    assert serving.ready, serving.model.error
    return serving


def test_not_ready_until_the_model_is_loaded(tiny_loading) -> None:
    serving, lock = tiny_loading
    assert not serving.ready
    with pytest.raises(NotReady, match="still loading"):
        serving.generate(request(seed=1))
    info = serving.info()
    assert not info.ready and info.model is None and "loading" in (info.message or "")
    lock.release()
    assert serving.model.wait(300)
    assert serving.ready, serving.model.error
    assert serving.info().ready


def test_tiny_says_its_weights_are_random(tiny: GeneratorServing) -> None:
    response = tiny.generate(request(seed=3))
    assert response.model.backend == "tiny" and response.model.random_weights and response.model.offline
    assert response.model.model_id == "fashionedit.tinymodels/sd3-tiny"


def test_tiny_refuses_sizes_its_transformer_cannot_render(tiny: GeneratorServing) -> None:
    with pytest.raises(InvalidInput, match="at most 384"):
        tiny.generate(request(width=512))
    assert tiny.info().limits["max_side"] == 384


def test_over_long_prompts_are_served_and_the_cut_is_reported(tiny: GeneratorServing) -> None:
    response = tiny.generate(request(prompt=PROMPT * 5, seed=1))
    assert response.prompt_truncation is not None and response.prompt_truncation.token_count > 77
    assert (PROMPT * 5).endswith(response.prompt_truncation.truncated_text)  # the caller's own words
    assert response.warnings


async def test_concurrent_requests_are_batched_and_keep_their_images(tiny: GeneratorServing) -> None:
    alone = [tiny.generate(request(seed=seed)) for seed in (100, 200)]
    together = await asyncio.gather(tiny.agenerate(request(seed=100)), tiny.agenerate(request(seed=200)))
    for solo, merged in zip(alone, together):
        assert merged.images[0].seed == solo.images[0].seed
        assert np.abs(pixels(merged.images[0]) - pixels(solo.images[0])).max() <= 2
    # Both waited for the same call (within the 200 ms window), so both report the same pipeline time.
    assert together[0].timings.stages["generate"] == together[1].timings.stages["generate"]


# -- failures -------------------------------------------------------------------------------------
def test_missing_weights_leave_the_service_not_ready_with_the_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    serving = GeneratorServing(GeneratorSettings(backend="sd3", device="cpu", load_in_background=False))
    assert not serving.ready
    info = serving.info()
    assert not info.ready and "HF_HUB_OFFLINE=1" in (info.message or "")
    with pytest.raises(NotReady, match="stabilityai/stable-diffusion-3-medium-diffusers"):
        serving.generate(request())
