"""CLIP image embeddings with open_clip (default ViT-L-14, OpenAI weights: the paper's CLIP).

Weights come from an open_clip pretrained tag (through its cache; nothing is
downloaded when ``HF_HUB_OFFLINE=1``), a local checkpoint file, or a
``local-dir:`` folder (the hub layout). The model's own preprocessing is split
in two so a batch costs one transfer and one forward:

* the geometric part (resize + centre crop, PIL, exactly open_clip's transform
  objects) runs per image in the decode threads and yields uint8 arrays;
* ToTensor + Normalize run once per batch on the device, on a uint8 tensor
  (a quarter of the bytes of float32 to move).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fashionedit.contracts import ModelInfo, WeightsIdentity

from ..settings import ScorerSettings
from .base import EmbedderUnavailable

log = logging.getLogger(__name__)

BACKEND = "open-clip"
# Written beside weights by fashionedit.tinymodels; duplicated so the service does not depend on it.
RANDOM_WEIGHTS_MARKER = "fashionedit_random_weights.json"
_TO_TENSOR = ("ToTensor", "MaybeToTensor", "PILToTensor")


def sha256_file(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _resolve_device(settings: ScorerSettings) -> tuple[Any, Any]:
    import torch

    device = settings.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    dtype_name = settings.dtype
    if dtype_name == "auto":
        dtype_name = "float16" if device.type == "cuda" else "float32"
    return device, getattr(torch, dtype_name)


class _Weights:
    """Where the weights come from, decided before anything heavy is loaded."""

    def __init__(self, settings: ScorerSettings) -> None:
        import open_clip

        self.model_name = settings.clip_model
        self.pretrained: str | None = None  # what create_model_and_transforms gets
        self.checkpoint: Path | None = None  # the file whose sha256 is the identity
        self.source = "local"
        self.random = False
        self.hub_cfg: dict[str, Any] | None = None
        self.hf_repo: str | None = None
        self.missing: str | None = None

        if settings.clip_model.startswith("local-dir:"):
            folder = Path(settings.clip_model[len("local-dir:"):])
            if not (folder / "open_clip_config.json").is_file():
                self.missing = f"{folder} is not an open_clip local-dir folder (no open_clip_config.json)"
                return
            from open_clip.factory import _find_checkpoint_in_dir

            found = _find_checkpoint_in_dir(folder)
            if found is None:
                self.missing = f"no weights file (*.safetensors, *.bin, *.pth) in {folder}"
                return
            self.checkpoint = Path(found)
            self.random = (folder / RANDOM_WEIGHTS_MARKER).is_file()
        elif settings.clip_model.startswith("hf-hub:"):
            self.source = "hub"
            self.hf_repo = settings.clip_model[len("hf-hub:"):]
        else:
            weights = settings.clip_weights.strip()
            if open_clip.get_model_config(settings.clip_model) is None:
                self.missing = f"unknown open_clip model {settings.clip_model!r}; see open_clip.list_models()"
            elif weights in ("", "none"):
                self.missing = "no CLIP weights configured (FASHIONEDIT_SCORER_CLIP_WEIGHTS is empty)"
            elif weights == "random":
                self.random, self.source = True, "random"
            elif open_clip.get_pretrained_cfg(settings.clip_model, weights):
                self.hub_cfg = open_clip.get_pretrained_cfg(settings.clip_model, weights)
                self.pretrained, self.source = weights, "hub"
            elif Path(weights).is_file():
                self.pretrained, self.checkpoint = weights, Path(weights)
                self.random = (Path(weights).parent / RANDOM_WEIGHTS_MARKER).is_file()
            else:
                tags = open_clip.list_pretrained_tags_by_model(settings.clip_model)
                self.missing = f"{weights!r} is neither a pretrained tag of {settings.clip_model} ({', '.join(tags) or 'none'}) nor a file"

    def display_name(self) -> str:
        if self.source == "random":
            return f"{self.model_name} (random init)"
        if self.hub_cfg is not None:
            repo = self.hub_cfg.get("hf_hub") or self.hub_cfg.get("url") or ""
            suffix = f"/{self.checkpoint.name}" if self.checkpoint else ""
            return f"{self.model_name}:{self.pretrained} ({repo.rstrip('/')}{suffix})"
        if self.hf_repo is not None:
            return f"hf-hub:{self.hf_repo}" + (f"/{self.checkpoint.name}" if self.checkpoint else "")
        return str(self.checkpoint)


def load(settings: ScorerSettings) -> "OpenClipEmbedder | EmbedderUnavailable":
    """Load the configured model, or say why CLIP is unavailable (never raises for missing weights)."""
    model_id = settings.clip_model
    try:
        import open_clip  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        return _unavailable(settings, f"open_clip/torch are not installed ({exc}); install fashionedit-scorer[clip]")
    weights = _Weights(settings)
    if weights.missing:
        return _unavailable(settings, weights.missing)
    if weights.random and not settings.allow_random_weights:
        return _unavailable(
            settings,
            f"the weights for {model_id} are random test weights ({weights.display_name()}); they give no CLIP score. "
            "Configure real weights, or set FASHIONEDIT_SCORER_ALLOW_RANDOM_WEIGHTS=true in tests",
        )
    try:
        return OpenClipEmbedder(settings, weights)
    except Exception as exc:  # noqa: BLE001 - missing/corrupt weights become an explained 'unavailable'
        log.warning("CLIP model %s could not be loaded: %s", model_id, exc)
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        if weights.source == "hub":
            reason = (
                f"CLIP weights {weights.display_name()} are not in the local cache"
                + (" and downloads are off (HF_HUB_OFFLINE=1)" if offline else " and could not be downloaded")
                + "; put them in the cache, or set FASHIONEDIT_SCORER_CLIP_WEIGHTS to a checkpoint file"
                " or FASHIONEDIT_SCORER_CLIP_MODEL=local-dir:<folder>"
            )
        else:
            reason = f"CLIP weights {weights.display_name()} could not be loaded"
        return _unavailable(settings, f"{reason} (open_clip: {str(exc)[:300]})")


def _unavailable(settings: ScorerSettings, reason: str) -> EmbedderUnavailable:
    return EmbedderUnavailable(
        reason=reason,
        info=ModelInfo(
            backend=BACKEND,
            model_id=settings.clip_model,
            weights=WeightsIdentity(name=settings.clip_weights or "none", source="none"),
            offline=True,
        ),
    )


class OpenClipEmbedder:
    def __init__(self, settings: ScorerSettings, weights: _Weights) -> None:
        import open_clip
        import torch

        self.device, self.dtype = _resolve_device(settings)
        if self.device.type == "cpu" and settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        self.batch_size = settings.batch_size or (256 if self.device.type == "cuda" else 64)
        started = time.perf_counter()
        model, _, preprocess = open_clip.create_model_and_transforms(
            weights.model_name, pretrained=weights.pretrained, cache_dir=settings.clip_cache_dir
        )
        if weights.hub_cfg is not None:
            # Same call open_clip just made; a cache hit that tells us which file was loaded.
            from open_clip.pretrained import download_pretrained

            weights.checkpoint = Path(download_pretrained(weights.hub_cfg, cache_dir=settings.clip_cache_dir))
        elif weights.hf_repo is not None:
            from open_clip.pretrained import download_pretrained_from_hf

            weights.checkpoint = Path(download_pretrained_from_hf(weights.hf_repo, cache_dir=settings.clip_cache_dir))
        # Only the image tower is used; the text tower is freed with ``model``.
        self.visual = model.visual.to(device=self.device, dtype=self.dtype).eval()
        del model

        stages = list(getattr(preprocess, "transforms", []))
        cut = next((i for i, t in enumerate(stages) if type(t).__name__ in _TO_TENSOR), None)
        norm = stages[-1] if stages else None
        if cut is None or type(norm).__name__ != "Normalize":
            raise RuntimeError(f"unsupported open_clip preprocess pipeline: {preprocess}")
        self._geometry = stages[:cut]
        size = self.visual.image_size
        self._input_size = (size, size) if isinstance(size, int) else tuple(size)
        self._mean = torch.tensor(norm.mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(norm.std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)

        sha = sha256_file(weights.checkpoint) if (weights.checkpoint and settings.hash_weights) else None
        random_weights = weights.random
        self.info = ModelInfo(
            backend=BACKEND,
            model_id=weights.model_name,
            weights=WeightsIdentity(name=weights.display_name(), sha256=sha, source="random" if random_weights else weights.source),  # type: ignore[arg-type]
            offline=random_weights,
            random_weights=random_weights,
            device=str(self.device),
            dtype=str(self.dtype).removeprefix("torch."),
        )
        log.info("CLIP %s loaded on %s/%s in %.1fs", self.info.weights, self.device, self.dtype, time.perf_counter() - started)

    @property
    def input_size(self) -> tuple[int, int]:
        return self._input_size  # type: ignore[return-value]

    def geometry(self, image: Image.Image) -> np.ndarray:
        for transform in self._geometry:
            image = transform(image)
        array = np.asarray(image, dtype=np.uint8)
        if array.shape != (*self._input_size, 3):
            raise RuntimeError(f"preprocess produced {array.shape}, expected {(*self._input_size, 3)}")
        return array

    def embed(self, batch: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        import torch

        timings = {"transfer_ms": 0.0, "forward_ms": 0.0}
        cuda = self.device.type == "cuda"
        out: list[np.ndarray] = []
        with torch.inference_mode():
            for start in range(0, len(batch), self.batch_size):
                t0 = time.perf_counter()
                chunk = torch.from_numpy(np.ascontiguousarray(batch[start:start + self.batch_size]))
                if cuda:
                    chunk = chunk.pin_memory().to(self.device, non_blocking=True)
                # Same arithmetic as ToTensor + Normalize, on the whole batch at once.
                x = chunk.permute(0, 3, 1, 2).float().div_(255.0).sub_(self._mean).div_(self._std).to(self.dtype)
                if cuda:
                    torch.cuda.synchronize(self.device)
                t1 = time.perf_counter()
                features = self.visual(x).float()
                features = torch.nn.functional.normalize(features, dim=-1).cpu().numpy()
                t2 = time.perf_counter()
                out.append(features)
                timings["transfer_ms"] += (t1 - t0) * 1000.0
                timings["forward_ms"] += (t2 - t1) * 1000.0
        return np.concatenate(out, axis=0), timings

    def close(self) -> None:
        self.visual = None  # type: ignore[assignment]
        if self.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()
