"""Editor test fixtures: the shared OpenAI-protocol server, a tiny random SD3 folder, sample images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import ImagePayload
from tests.support.fixtures import openai_fake, openai_server  # noqa: F401

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def sd3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight SD3 saved in the diffusers layout (loaded back with from_pretrained)."""
    pytest.importorskip("diffusers")
    from fashionedit.tinymodels import save_sd3_pipeline

    return save_sd3_pipeline(tmp_path_factory.mktemp("editor-sd3") / "sd3-tiny")


def design_image(size: int = 64, seed: int = 0) -> Image.Image:
    """A smooth, textured stand-in for a design: gradients plus low-amplitude noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = np.stack([120 + 80 * x, 90 + 60 * y, 160 - 50 * x * y], axis=-1)
    noise = rng.normal(0, 6, (size, size, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def reference_patch(width: int = 16, height: int = 16, seed: int = 1) -> Image.Image:
    """A high-contrast checker in red and yellow: nothing like the design, easy to see."""
    y, x = np.mgrid[0:height, 0:width]
    checker = ((x // 4 + y // 4) % 2).astype(bool)
    arr = np.where(checker[..., None], np.array([230, 30, 30]), np.array([250, 220, 40]))
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def payload(img: Image.Image) -> ImagePayload:
    return ImagePayload.from_pil(img)


@pytest.fixture
def design() -> ImagePayload:
    return payload(design_image())


@pytest.fixture
def reference() -> ImagePayload:
    return payload(reference_patch())


def openai_settings(server, backend: str, **overrides):
    """Settings pointing a backend at the local OpenAI-protocol server."""
    from fashionedit.services.editor.settings import EditorSettings

    values = dict(
        backend=backend,
        openai_api_key=server.api_key,
        openai_base_url=server.base_url,
        openai_timeout_s=10.0,
        openai_max_retries=0,
    )
    values.update(overrides)
    return EditorSettings(**values)


def openai_serving(server, backend: str, **overrides):
    from fashionedit.services.editor.serving import EditorServing

    return EditorServing(openai_settings(server, backend, **overrides), background=False)
