"""PSNR/SSIM exactly as the published evaluation: cv2.PSNR (and scikit-image) on 256x256 bilinear resizes."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from fashionedit.contracts.score import ScoreRequest
from fashionedit.services.scorer import metrics
from fashionedit.services.scorer.serving import ScorerServing
from fashionedit.services.scorer.settings import ScorerSettings

from .conftest import png, random_rgb


@pytest.fixture(scope="module")
def psnr_only() -> ScorerServing:
    serving = ScorerServing(ScorerSettings(backend="none", lpips="off", decode_threads=2), background=False)
    yield serving
    serving.close()


def reference_arrays(payload) -> np.ndarray:
    """What the published eval does: cv2.imread of the file, cv2.resize to 256x256, INTER_LINEAR, uint8 (flipped to RGB)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"image.{payload.format.lower()}"
        path.write_bytes(payload.to_bytes())
        bgr = cv2.imread(str(path))
    return cv2.cvtColor(cv2.resize(bgr, (256, 256), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)


def _cases() -> dict[str, tuple[Image.Image, Image.Image]]:
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, (40, 30, 4), dtype=np.uint8)
    return {
        "random": (Image.fromarray(random_rgb(1)), Image.fromarray(random_rgb(2))),
        "random-noise-large": (
            Image.fromarray(rng.integers(0, 256, (300, 411, 3), dtype=np.uint8)),
            Image.fromarray(rng.integers(0, 256, (300, 411, 3), dtype=np.uint8)),
        ),
        "constant-vs-constant": (Image.new("RGB", (64, 64), (10, 20, 30)), Image.new("RGB", (64, 64), (200, 100, 0))),
        "constant-off-by-one": (Image.new("RGB", (32, 32), (128, 128, 128)), Image.new("RGB", (32, 32), (129, 128, 128))),
        "extreme-black-white": (Image.new("RGB", (64, 64), (0, 0, 0)), Image.new("RGB", (64, 64), (255, 255, 255))),
        "odd-sizes": (Image.fromarray(random_rgb(3, (37, 91))), Image.fromarray(random_rgb(4, (513, 7)))),
        "one-pixel": (Image.new("RGB", (1, 1), (1, 2, 3)), Image.fromarray(random_rgb(5, (17, 3)))),
        "grayscale": (Image.fromarray(random_rgb(6)[..., 0], mode="L"), Image.fromarray(random_rgb(7))),
        "rgba": (Image.fromarray(rgba, mode="RGBA"), Image.fromarray(random_rgb(8, (30, 40)))),
        "palette": (Image.fromarray(random_rgb(9)).convert("P"), Image.fromarray(random_rgb(10))),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_psnr_equals_opencv_and_skimage(psnr_only: ScorerServing, name: str) -> None:
    gen_img, ref_img = CASES[name]
    gen, ref = png(gen_img), png(ref_img)
    response = psnr_only.score(ScoreRequest(pairs=[{"generated": gen, "reference": ref}], metrics=["psnr", "ssim"]))
    a, b = reference_arrays(gen), reference_arrays(ref)
    assert a.shape == b.shape == (256, 256, 3) and a.dtype == np.uint8
    score = response.scores[0]
    assert score.psnr == pytest.approx(cv2.PSNR(a, b), abs=1e-6)
    assert score.psnr == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=1e-6)
    assert score.ssim == pytest.approx(structural_similarity(a, b, channel_axis=-1, data_range=255), abs=1e-9)
    assert score.identical is False
    assert response.aggregate.psnr == pytest.approx(score.psnr, abs=1e-9) and response.aggregate.psnr_n == 1


@pytest.mark.parametrize("name", ["random", "constant-vs-constant", "grayscale", "rgba", "odd-sizes"])
def test_identical_images_follow_the_opencv_rule(psnr_only: ScorerServing, name: str) -> None:
    img = CASES[name][0]
    payload = png(img)
    response = psnr_only.score(ScoreRequest(pairs=[{"generated": payload, "reference": png(img)}], metrics=["psnr"]))
    a = reference_arrays(payload)
    with np.errstate(divide="ignore"):
        assert math.isinf(peak_signal_noise_ratio(a, a.copy(), data_range=255))  # what we must not average
    assert response.scores[0].psnr == pytest.approx(cv2.PSNR(a, a.copy()), abs=1e-6)
    assert response.scores[0].psnr == pytest.approx(metrics.PSNR_IDENTICAL_OPENCV_DB, abs=1e-9)
    assert response.scores[0].identical is True
    assert math.isfinite(response.aggregate.psnr)
    assert "361.20 dB" in response.psnr_rule


def test_identical_images_excluded_under_the_exclude_rule() -> None:
    serving = ScorerServing(ScorerSettings(backend="none", lpips="off", psnr_identical="exclude"), background=False)
    try:
        same, other = png(random_rgb(1)), png(random_rgb(2))
        response = serving.score(
            ScoreRequest(
                pairs=[{"generated": same, "reference": png(random_rgb(1))}, {"generated": same, "reference": other}],
                metrics=["psnr"],
            )
        )
    finally:
        serving.close()
    first, second = response.scores
    assert first.psnr is None and first.identical is True
    expected = cv2.PSNR(reference_arrays(same), reference_arrays(other))
    assert second.psnr == pytest.approx(expected, abs=1e-6)
    assert response.aggregate.psnr == pytest.approx(expected, abs=1e-6)
    assert response.aggregate.psnr_n == 1 and response.aggregate.n == 2
    assert "left out of the mean" in response.psnr_rule


def test_bgr_decode_of_the_published_eval_gives_the_same_psnr(psnr_only: ScorerServing) -> None:
    """The published code reads with cv2.imread (BGR); PSNR averages over channels, so the order cannot matter."""
    gen, ref = png(random_rgb(11, (75, 110))), png(random_rgb(12, (75, 110)))
    bgr = [cv2.resize(cv2.imdecode(np.frombuffer(p.to_bytes(), np.uint8), cv2.IMREAD_COLOR), (256, 256)) for p in (gen, ref)]
    response = psnr_only.score(ScoreRequest(pairs=[{"generated": gen, "reference": ref}], metrics=["psnr"]))
    assert response.scores[0].psnr == pytest.approx(cv2.PSNR(*bgr), abs=1e-6)


@hsettings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), amplitude=st.sampled_from([0, 1, 2, 17, 255]))
def test_psnr_function_matches_skimage_on_any_arrays(seed: int, amplitude: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    b = np.clip(a.astype(np.int16) + rng.integers(-amplitude, amplitude + 1, a.shape), 0, 255).astype(np.uint8)
    value, identical = metrics.psnr(a, b)
    assert value == pytest.approx(cv2.PSNR(a, b), abs=1e-6)
    assert identical == (not np.any(a != b))
    if identical:
        assert value == pytest.approx(metrics.PSNR_IDENTICAL_OPENCV_DB)
    else:
        assert value == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-6)


def test_clip_star_is_strictly_above_the_threshold() -> None:
    assert metrics.clip_star([0.90, 0.9000001, 0.5, 1.0], 0.90) == pytest.approx(50.0)
    assert metrics.above(0.90, 0.90) is False
    assert metrics.above(np.nextafter(0.90, 1.0), 0.90) is True
    assert metrics.clip_star([], 0.9) is None
