"""Generator test fixtures: random-weight SD3/SD2 pipelines saved in the real diffusers layout."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

TINY_SIDE = 64  # every diffusers test renders 64x64: seconds on 2 CPU cores


@pytest.fixture(scope="session")
def tiny_sd3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One random-weight SD3 pipeline folder for the whole run (what the tiny backend builds at start-up)."""
    from fashionedit.services.generator.backends.tiny import ensure_tiny_pipeline

    return ensure_tiny_pipeline(tmp_path_factory.mktemp("generator-cache"), "sd3-tiny")


@pytest.fixture
def tiny_cache(tmp_path: Path, tiny_sd3_dir: Path) -> Path:
    """A cache dir that already holds the tiny pipeline (start-up then loads instead of building)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copytree(tiny_sd3_dir, cache / tiny_sd3_dir.name)
    return cache


@pytest.fixture(scope="session")
def tiny_sd2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fashionedit.tinymodels import save_sd2_pipeline

    return save_sd2_pipeline(tmp_path_factory.mktemp("sd2") / "sd2-tiny", "sd2-tiny", seed=0)
