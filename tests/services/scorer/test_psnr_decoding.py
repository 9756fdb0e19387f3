"""PSNR decodes files as the published evaluation's cv2.imread does, on the files that expose the difference."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import ImagePayload
from fashionedit.contracts.score import ScoreRequest
from fashionedit.services.scorer import metrics
from fashionedit.services.scorer.serving import ScorerServing
from fashionedit.services.scorer.settings import ScorerSettings

from .conftest import random_rgb


def published_psnr(path_a: Path, path_b: Path) -> float:
    """CILP.py: cv2.PSNR(cv2.resize(cv2.imread(a), (256, 256)), cv2.resize(cv2.imread(b), (256, 256)))."""
    a, b = cv2.imread(str(path_a)), cv2.imread(str(path_b))
    return float(cv2.PSNR(cv2.resize(a, (256, 256)), cv2.resize(b, (256, 256))))


def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _rgba_transparent() -> tuple[bytes, bytes]:
    # Same colours, different alpha: cv2.imread drops alpha, so the pair is identical (361.20 dB published);
    # compositing on white sees two different pictures.
    rgb = random_rgb(1, (48, 40))
    alpha_a = np.full(rgb.shape[:2], 255, np.uint8)
    alpha_b = np.tile(np.linspace(0, 255, rgb.shape[1], dtype=np.uint8), (rgb.shape[0], 1))
    return (
        encoded(Image.fromarray(np.dstack([rgb, alpha_a]), "RGBA"), "PNG"),
        encoded(Image.fromarray(np.dstack([rgb, alpha_b]), "RGBA"), "PNG"),
    )


def _la() -> tuple[bytes, bytes]:
    grey = random_rgb(2, (33, 50))[..., 0]
    alpha = np.where(np.arange(33)[None, :] % 3 == 0, 0, 255).astype(np.uint8).repeat(50, 0)
    return encoded(Image.fromarray(np.dstack([grey, alpha]), "LA"), "PNG"), encoded(
        Image.fromarray(random_rgb(3, (33, 50))), "PNG"
    )


def _palette_transparency() -> tuple[bytes, bytes]:
    img = Image.fromarray(random_rgb(4, (40, 40))).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    transparent = img.getpixel((0, 0))
    return encoded(img, "PNG", transparency=transparent), encoded(Image.fromarray(random_rgb(5, (40, 40))), "PNG")


def _exif_rotated() -> tuple[bytes, bytes]:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display; cv2.imread applies it
    img = Image.fromarray(random_rgb(6, (64, 40)))
    return encoded(img, "JPEG", quality=95, exif=exif), encoded(Image.fromarray(random_rgb(7, (40, 64))), "JPEG", quality=95)


def _cmyk() -> tuple[bytes, bytes]:
    img = Image.fromarray(random_rgb(8, (48, 48))).convert("CMYK")
    return encoded(img, "JPEG", quality=95), encoded(Image.fromarray(random_rgb(9, (48, 48))), "JPEG", quality=95)


def _sixteen_bit() -> tuple[bytes, bytes]:
    rng = np.random.default_rng(10)
    deep = rng.integers(0, 65536, (30, 45, 3), dtype=np.uint16)
    ok, a = cv2.imencode(".png", deep)
    assert ok
    grey16 = Image.fromarray(rng.integers(0, 65536, (30, 45), dtype=np.uint16).astype(np.int32), "I").convert("I;16")
    return a.tobytes(), encoded(grey16, "PNG")


CASES = {
    "rgba-transparency": _rgba_transparent,
    "la": _la,
    "palette-transparency": _palette_transparency,
    "exif-rotated": _exif_rotated,
    "cmyk": _cmyk,
    "16-bit": _sixteen_bit,
}


@pytest.fixture(scope="module")
def servings():
    made = {
        mode: ScorerServing(ScorerSettings(backend="none", lpips="off", decode_threads=1, psnr_decode=mode), background=False)
        for mode in ("opencv", "composite")
    }
    yield made
    for serving in made.values():
        serving.close()


def score(serving: ScorerServing, a: bytes, b: bytes) -> float:
    request = ScoreRequest(
        pairs=[{"generated": ImagePayload.from_bytes(a), "reference": ImagePayload.from_bytes(b)}], metrics=["psnr"]
    )
    return serving.score(request).scores[0].psnr


@pytest.mark.parametrize("name", list(CASES))
def test_psnr_equals_the_published_cv2_imread_path(servings, tmp_path: Path, name: str) -> None:
    a, b = CASES[name]()
    suffix = ".jpg" if a[:2] == b"\xff\xd8" else ".png"
    (tmp_path / f"a{suffix}").write_bytes(a)
    (tmp_path / f"b{suffix}").write_bytes(b)
    expected = published_psnr(tmp_path / f"a{suffix}", tmp_path / f"b{suffix}")
    assert score(servings["opencv"], a, b) == pytest.approx(expected, abs=1e-9)
    assert "cv2.imread" in servings["opencv"].info().limits["psnr_decode"]


def test_the_default_decoding_is_the_published_one() -> None:
    assert ScorerSettings().psnr_decode == "opencv"


def test_transparent_pair_scores_as_published_and_composite_is_the_option(servings, tmp_path: Path) -> None:
    a, b = _rgba_transparent()
    (tmp_path / "a.png").write_bytes(a)
    (tmp_path / "b.png").write_bytes(b)
    assert published_psnr(tmp_path / "a.png", tmp_path / "b.png") == pytest.approx(metrics.PSNR_IDENTICAL_OPENCV_DB)
    assert score(servings["opencv"], a, b) == pytest.approx(metrics.PSNR_IDENTICAL_OPENCV_DB)  # 361.20 dB
    composited = score(servings["composite"], a, b)
    assert composited < 40  # alpha composited on white: two different pictures
    assert "composited on white" in servings["composite"].info().limits["psnr_decode"]


@pytest.mark.parametrize("name", ["exif-rotated", "cmyk", "16-bit"])
def test_these_files_are_where_the_decodings_differ(servings, name: str) -> None:
    a, b = CASES[name]()
    assert score(servings["opencv"], a, b) != pytest.approx(score(servings["composite"], a, b), abs=1e-6)
