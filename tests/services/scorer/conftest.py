"""Scorer test fixtures: random-weight tiny CLIP saved in the real open_clip layout, and test images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import ImagePayload


def png(array_or_image, fmt: str = "PNG") -> ImagePayload:
    img = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return ImagePayload.from_bytes(buf.getvalue())


def random_rgb(seed: int, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """A smooth-ish random image (noise on a gradient), ``size`` = (width, height)."""
    rng = np.random.default_rng(seed)
    w, h = size
    grad = np.linspace(0, 200, w, dtype=np.float32)[None, :, None] + rng.integers(0, 56, (1, 1, 3))
    noise = rng.normal(0, 25, (h, w, 3))
    return np.clip(grad + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fashionedit.tinymodels import save_open_clip_local_dir

    return save_open_clip_local_dir(tmp_path_factory.mktemp("clip") / "clip-tiny", "clip-tiny", seed=0)
