"""``tiny``: a random-weight SD3 pipeline through the real diffusers path, fully offline.

With ``FASHIONEDIT_GENERATOR_MODEL`` unset, the pipeline is built from a
``fashionedit.tinymodels`` spec at start-up into ``cache_dir`` (once; later
starts reuse it) and loaded back with ``from_pretrained`` like real weights.
A file lock keeps several workers from building the same folder at once.
Responses say ``random_weights=True``: these images are not model output.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from ..settings import GeneratorSettings
from .diffusers_pipeline import DiffusersBackend

log = logging.getLogger(__name__)

TINY_SEED = 0


def tiny_pipeline_dir(cache_dir: Path, spec: str) -> Path:
    return Path(cache_dir).expanduser() / f"{spec}-seed{TINY_SEED}"


def build_lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


def ensure_tiny_pipeline(cache_dir: Path, spec: str) -> Path:
    """Return a folder holding the random-weight pipeline ``spec``, building it if absent."""
    import diffusers.pipelines.stable_diffusion_3  # noqa: F401
    from filelock import FileLock, Timeout

    # Imports torch, diffusers and transformers before any wait at the lock: loading needs them anyway.
    from fashionedit.tinymodels import SD3_SPECS, save_sd3_pipeline

    if spec not in SD3_SPECS:
        raise ValueError(f"unknown tiny spec {spec!r}; choose one of {sorted(SD3_SPECS)}")
    target = tiny_pipeline_dir(cache_dir, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(build_lock_path(target)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("waiting for %s: another process is building the tiny pipeline", lock.lock_file)
        lock.acquire()
    try:
        if (target / "model_index.json").is_file():
            return target
        log.info("building random-weight %s pipeline in %s", spec, target)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec}-", dir=target.parent))
        try:
            # Build beside the target, then rename: a crash never leaves a half-written pipeline behind.
            save_sd3_pipeline(staging / "pipeline", spec, seed=TINY_SEED)
            (staging / "pipeline").rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        lock.release()
    return target


def load(settings: GeneratorSettings, *, backend: str = "tiny") -> DiffusersBackend:
    if settings.model:
        return DiffusersBackend.load(settings, backend=backend, model=settings.model)
    model = str(ensure_tiny_pipeline(settings.cache_dir, settings.tiny_spec))
    return DiffusersBackend.load(settings, backend=backend, model=model, model_id=f"fashionedit.tinymodels/{settings.tiny_spec}")
