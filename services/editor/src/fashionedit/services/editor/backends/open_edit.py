"""What the open-weights instruction editors (``qwen-edit``, ``flux-kontext``) share.

Both take the current design plus an instruction (the paper's LMM_m(y^, <t, y>)) through a diffusers
pipeline loaded with ``from_pretrained`` from a local folder or a hub id in the HF cache. A subclass
says which pipeline, which images it sends and how it calls it; this module does the rest the same
for both: loading (device, dtype, CPU offload), the weights' identity, the working size, the target
box (outside the box the result is the input, pixel for pixel), timings and errors.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import json
import logging
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fashionedit.contracts import Box2D, ImagePayload, ModelInfo, WeightsIdentity
from fashionedit.services.common import Unavailable
from fashionedit.services.common.devices import device_and_dtype

from ..settings import EditorSettings
from .base import EditBackend, EditJob, EditResult
from .local import _parse_size

log = logging.getLogger("fashionedit.editor")

# Backends load in parallel threads; diffusers' lazy module is not safe to import from two at once.
_LOAD_LOCK = threading.Lock()


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights were loaded from, and the identity responses report (never a temp path)."""

    folder: Path
    identity: WeightsIdentity
    model_id: str
    random_weights: bool


def config_digest(folder: Path) -> str:
    """sha256 over a pipeline folder's ``model_index.json`` and every component's config / index JSON.

    Stable across copies of the same snapshot (paths are relative), and it changes when any
    component's architecture or shard list changes. The random-weights marker is a label, not part
    of the weights, so it is left out."""
    from fashionedit.tinymodels import RANDOM_WEIGHTS_MARKER

    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.json")):
        if path.name == RANDOM_WEIGHTS_MARKER:
            continue
        relative = path.relative_to(folder).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def resolve_weights(source: str, revision: str | None) -> WeightsSource:
    """A local folder as it is; a hub id from the HF cache (``HF_HUB_OFFLINE=1`` never downloads)."""
    from fashionedit.tinymodels import RANDOM_WEIGHTS_MARKER, is_random_weights

    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise FileNotFoundError(f"{path.name}: not a diffusers pipeline folder (no model_index.json)")
        random_weights = is_random_weights(path)
        digest = config_digest(path)
        if random_weights:
            spec = json.loads((path / RANDOM_WEIGHTS_MARKER).read_text()).get("spec", "random")
            return WeightsSource(
                path, WeightsIdentity(name=spec, sha256=digest, source="random"), f"{spec} (random weights)", True
            )
        return WeightsSource(path, WeightsIdentity(name=path.name, sha256=digest, source="local"), path.name, False)
    if source.startswith(("/", ".", "~")):
        raise FileNotFoundError(f"weights folder {source!r} does not exist (is the models volume mounted?)")
    from huggingface_hub import constants, snapshot_download

    try:
        folder = Path(snapshot_download(source, revision=revision, local_files_only=constants.HF_HUB_OFFLINE))
    except Exception as exc:  # the hub's errors are many; the message is what the operator needs
        hint = " (HF_HUB_OFFLINE=1: put the snapshot in the HF cache or mount a local folder)" if constants.HF_HUB_OFFLINE else ""
        raise FileNotFoundError(f"weights {source!r} not available: {type(exc).__name__}: {exc}{hint}") from exc
    # A cache snapshot lives in .../snapshots/<commit>: that commit is the revision.
    name = f"{source}@{folder.name}"
    return WeightsSource(folder, WeightsIdentity(name=name, sha256=config_digest(folder), source="hub"), source, False)


def fit_area(size: tuple[int, int], max_area: int, multiple: int) -> tuple[int, int]:
    """The design's aspect ratio at ``max_area`` pixels, both sides multiples of ``multiple``."""
    width, height = size
    scale = (max_area / (width * height)) ** 0.5
    return max(multiple, int(width * scale) // multiple * multiple), max(multiple, int(height * scale) // multiple * multiple)


def keep_outside_box(original: Image.Image, edited: Image.Image, box: Box2D) -> Image.Image:
    """The edit inside ``box``, the original everywhere else (both at the original's size)."""
    x0, y0, x1, y1 = box.to_pixels(*original.size)
    out = np.asarray(original.convert("RGB")).copy()
    out[y0:y1, x0:x1] = np.asarray(edited.convert("RGB"))[y0:y1, x0:x1]
    return Image.fromarray(out, "RGB")


class OpenEditBackend(EditBackend):
    """One diffusers instruction-editing pipeline behind the editor's interface."""

    pipeline_class: str = ""  # diffusers class name, imported at load time
    default_steps: int = 28

    def __init__(self, settings: EditorSettings) -> None:
        self.settings = settings
        self.pipe: Any = None
        self.weights: WeightsSource | None = None
        self.device: str | None = None
        self.dtype: str | None = None
        self.multiple = 16
        self._lock = threading.Lock()  # diffusers pipelines are not thread-safe: one call at a time

    # -- subclass hooks ---------------------------------------------------------------------------
    @abc.abstractmethod
    def weights_setting(self) -> tuple[str | None, str | None, str]:
        """(model id or folder, revision, name of the environment variable that sets it)."""

    @abc.abstractmethod
    def run_pipeline(
        self, job: EditJob, design: Image.Image, references: list[Image.Image], work: tuple[int, int], generator: Any
    ) -> tuple[Image.Image, list[str]]:
        """Call the pipeline; return the edited design at ``work`` size and any warnings."""

    # -- loading -----------------------------------------------------------------------------------
    def load(self) -> None:
        with _LOAD_LOCK:
            self._load()

    def _load(self) -> None:
        import diffusers
        import torch

        source, revision, variable = self.weights_setting()
        if not source:
            raise RuntimeError(
                f"backend {self.name!r} needs weights: set {variable} to a diffusers folder or a hub id in the HF cache"
            )
        self.weights = resolve_weights(source, revision)
        device, dtype = device_and_dtype(self.settings.open_edit_device, self.settings.open_edit_dtype, half="bfloat16")
        offload = self.settings.open_edit_cpu_offload
        if offload != "none" and not device.startswith("cuda"):
            raise RuntimeError(f"FASHIONEDIT_EDITOR_OPEN_EDIT_CPU_OFFLOAD={offload} needs a CUDA device (device is {device})")
        pipe = getattr(diffusers, self.pipeline_class).from_pretrained(str(self.weights.folder), dtype=dtype)
        if offload == "model":
            pipe.enable_model_cpu_offload(device=torch.device(device))
        elif offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=torch.device(device))
        else:
            pipe = pipe.to(device)
        self.use_pipeline(pipe, device=device, dtype=dtype)
        log.info("%s loaded %s on %s (%s, offload %s)", self.name, self.weights.identity.name, device, self.dtype, offload)

    def use_pipeline(self, pipe: Any, *, device: str, dtype: Any) -> None:
        """Serve edits with ``pipe`` (already placed on its device); the benchmark hands in random builds here."""
        pipe.set_progress_bar_config(disable=True)
        self.pipe, self.device, self.dtype = pipe, device, str(dtype).removeprefix("torch.")
        self.multiple = int(pipe.vae_scale_factor) * 2  # latents are packed 2x2

    def model_info(self) -> ModelInfo:
        source, _, _ = self.weights_setting()
        if self.weights is None:
            return ModelInfo(backend=self.name, model_id=str(source or "unset"), offline=True)
        return ModelInfo(
            backend=self.name,
            model_id=self.weights.model_id,
            weights=self.weights.identity,
            offline=True,  # nothing leaves this machine; the paper's editor is OpenAI's
            random_weights=self.weights.random_weights,
            device=self.device,
            dtype=self.dtype,
        )

    # -- the edit ----------------------------------------------------------------------------------
    async def edit(self, job: EditJob) -> EditResult:
        return await asyncio.to_thread(self.edit_sync, job)

    def edit_sync(self, job: EditJob) -> EditResult:
        import torch

        with job.watch.stage("decode"):
            design = job.image.to_pil().convert("RGB")
            references = [r.to_pil().convert("RGB") for r in job.references]
        out_size = _parse_size(job.size, design.size)
        work = fit_area(design.size, self.settings.open_edit_max_area, self.multiple)
        seed = random.randrange(2**32) if job.seed is None else job.seed
        generator = torch.Generator(device="cpu").manual_seed(seed)
        with job.watch.stage("edit"), self._lock:
            try:
                edited, warnings = self.run_pipeline(job, design, references, work, generator)
            except torch.OutOfMemoryError as exc:
                raise Unavailable(
                    f"{self.name}: out of accelerator memory at {work[0]}x{work[1]}; retry later, send a smaller design, "
                    "or enable FASHIONEDIT_EDITOR_OPEN_EDIT_CPU_OFFLOAD"
                ) from exc
        with job.watch.stage("composite"):
            edited = edited.resize(design.size, Image.Resampling.BICUBIC) if edited.size != design.size else edited
            if job.target_box is not None:
                edited = keep_outside_box(design, edited, job.target_box)
            if edited.size != out_size:
                edited = edited.resize(out_size, Image.Resampling.BICUBIC)
        with job.watch.stage("encode"):
            image = ImagePayload.from_pil(edited)
        return EditResult(image=image, prompt=job.prompt, model=self.model_info(), target_box=job.target_box, warnings=warnings)

    def steps(self) -> int:
        return self.settings.open_edit_steps or self.default_steps
