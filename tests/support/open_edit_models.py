"""Tiny random Qwen-Image-Edit-Plus and FLUX.1 Kontext folders, built once per test session.

They are written with ``save_pretrained`` under pytest's base temp dir and reused by every module
that asks (the folder is the cache; a file lock keeps concurrent builders apart).
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Settings that keep the tiny editors cheap on a shared CPU: 64x64 work area, 2 steps.
TINY_OPEN_EDIT_ENV = {
    "FASHIONEDIT_EDITOR_OPEN_EDIT_STEPS": "2",
    "FASHIONEDIT_EDITOR_OPEN_EDIT_MAX_AREA": str(64 * 64),
    "FASHIONEDIT_EDITOR_QWEN_EDIT_VAE_AREA": str(64 * 64),
}


def tiny_open_edit_settings() -> dict[str, int]:
    return {key.removeprefix("FASHIONEDIT_EDITOR_").lower(): int(value) for key, value in TINY_OPEN_EDIT_ENV.items()}


def _cached(tmp_path_factory: pytest.TempPathFactory, name: str, save) -> Path:
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp() / "open-edit-models"
    root.mkdir(parents=True, exist_ok=True)
    folder = root / name
    with FileLock(str(root / f"{name}.lock")):
        if not (folder / "fashionedit_random_weights.json").is_file():  # written last: the build finished
            save(folder)
    return folder


def qwen_edit_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("diffusers")
    from fashionedit.tinymodels import save_qwen_edit_pipeline

    return _cached(tmp_path_factory, "qwen-image-edit-tiny", save_qwen_edit_pipeline)


def kontext_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("diffusers")
    from fashionedit.tinymodels import save_kontext_pipeline

    return _cached(tmp_path_factory, "flux-kontext-tiny", save_kontext_pipeline)
