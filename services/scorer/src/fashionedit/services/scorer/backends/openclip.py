"""CLIP image embeddings with open_clip (default ViT-L-14, OpenAI weights: the paper's CLIP).

Weights come from an open_clip pretrained tag (through its cache; nothing is
downloaded when ``HF_HUB_OFFLINE=1``), a local checkpoint file, or a
``local-dir:`` folder (the hub layout). The model's preprocessing is split in two
so a batch costs one transfer and one forward:

* the geometric part runs per image in the decode threads and yields uint8 arrays. For the shortest-edge
  resize + centre crop of OpenAI-style configs it is the published ``CLIPImageProcessor``'s (floored crop
  offset, see :mod:`..clip_geometry`), not torchvision's rounding ``CenterCrop``; other resize modes keep
  open_clip's own transform objects;
* rescale + normalise run once per batch on the device, on a uint8 tensor (a quarter of the bytes of
  float32 to move), in the processor's arithmetic.

The activation follows the weights: OpenAI's CLIP was trained with QuickGELU, and open_clip 3.x builds
``ViT-L-14`` with ``nn.GELU`` unless told (it only warns), so the tag's ``quick_gelu`` (or a checkpoint's
``open_clip_config.json``) is passed on explicitly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from fashionedit.contracts import ModelInfo, WeightsIdentity
from fashionedit.services.common.devices import device_and_dtype

from ..clip_geometry import RESAMPLE, ProcessorGeometry
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


def _declared_quick_gelu(config_file: Path) -> bool | None:
    """``model_cfg.quick_gelu`` of an ``open_clip_config.json`` (the hub/local-dir layout), if the file says."""
    try:
        model_cfg = json.loads(config_file.read_text()).get("model_cfg", {})
    except (OSError, ValueError, AttributeError):
        return None
    value = model_cfg.get("quick_gelu") if isinstance(model_cfg, dict) else None
    return value if isinstance(value, bool) else None


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
        # QuickGELU or GELU, and who said so; None = the model config's own value, passed on unchanged.
        self.quick_gelu: bool | None = None
        self.quick_gelu_source = "model config"

        if settings.clip_model.startswith("local-dir:"):
            folder = Path(settings.clip_model[len("local-dir:") :])
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
            self.quick_gelu, self.quick_gelu_source = (
                _declared_quick_gelu(folder / "open_clip_config.json"),
                "open_clip_config.json",
            )
        elif settings.clip_model.startswith("hf-hub:"):
            self.source = "hub"
            self.hf_repo = settings.clip_model[len("hf-hub:") :]
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
                # The tag says how its weights were trained ('openai': quick_gelu=True); open_clip would only warn.
                self.quick_gelu, self.quick_gelu_source = (
                    bool(self.hub_cfg.get("quick_gelu", False)),
                    f"pretrained tag {weights!r}",
                )
            elif Path(weights).is_file():
                self.pretrained, self.checkpoint = weights, Path(weights)
                self.random = (Path(weights).parent / RANDOM_WEIGHTS_MARKER).is_file()
                # A checkpoint declares its activation in an open_clip_config.json beside it (the hub layout).
                declared = _declared_quick_gelu(Path(weights).parent / "open_clip_config.json")
                if declared is not None:
                    self.quick_gelu, self.quick_gelu_source = declared, f"{Path(weights).parent.name}/open_clip_config.json"
            else:
                tags = open_clip.list_pretrained_tags_by_model(settings.clip_model)
                self.missing = (
                    f"{weights!r} is neither a pretrained tag of {settings.clip_model} ({', '.join(tags) or 'none'}) nor a file"
                )

        if settings.clip_quick_gelu != "auto":
            self.quick_gelu, self.quick_gelu_source = settings.clip_quick_gelu == "true", "FASHIONEDIT_SCORER_CLIP_QUICK_GELU"
        if self.quick_gelu is None:
            config = open_clip.get_model_config(settings.clip_model) if ":" not in settings.clip_model else None
            self.quick_gelu = bool((config or {}).get("quick_gelu", False)) if config is not None else None

    def create_kwargs(self) -> dict[str, Any]:
        """Arguments for ``open_clip.create_model_and_transforms(model_name, **kwargs)``: weights and activation."""
        kwargs: dict[str, Any] = {"pretrained": self.pretrained}
        if self.quick_gelu is not None:
            # model kwargs override the model config in open_clip (both directions); force_* only turns it on.
            kwargs.update(quick_gelu=self.quick_gelu, force_quick_gelu=self.quick_gelu)
        return kwargs

    @property
    def activation(self) -> str:
        if self.quick_gelu is None:
            return f"as in {self.quick_gelu_source}"
        return f"{'QuickGELU' if self.quick_gelu else 'GELU'} ({self.quick_gelu_source})"

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


def load(settings: ScorerSettings) -> OpenClipEmbedder | EmbedderUnavailable:
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


def split_preprocess(preprocess: Any, input_size: tuple[int, int]) -> tuple[Any, tuple[float, ...], tuple[float, ...]]:
    """open_clip's eval transform as (per-image uint8 geometry, mean, std).

    The geometry is the published processor's where it applies.
    """
    stages = list(getattr(preprocess, "transforms", []))
    cut = next((i for i, t in enumerate(stages) if type(t).__name__ in _TO_TENSOR), None)
    norm = stages[-1] if stages else None
    if cut is None or norm is None or type(norm).__name__ != "Normalize":
        raise RuntimeError(f"unsupported open_clip preprocess pipeline: {preprocess}")
    return _processor_geometry(stages[:cut], input_size) or stages[:cut], tuple(norm.mean), tuple(norm.std)


def normalize_batch(batch: Any, mean: Any, std: Any) -> Any:
    """``(N, H, W, 3)`` uint8 -> ``(N, 3, H, W)`` float32 in CLIPImageProcessor's arithmetic.

    The processor rescales in float64 (``x * (1/255)``), casts to float32, then computes ``(x - mean) / std`` in
    float32; the same operations in the same order give bit-identical tensors. ``mean``/``std`` are float32 ``(1, 3, 1, 1)``.
    """
    return batch.permute(0, 3, 1, 2).double().mul_(1.0 / 255.0).float().sub_(mean).div_(std)


def _processor_geometry(stages: list[Any], input_size: tuple[int, int]) -> ProcessorGeometry | None:
    """The published processor's geometry for open_clip's shortest-edge pipeline (Resize(int) + CenterCrop), else None."""
    names = [type(t).__name__ for t in stages]
    if names[:2] != ["Resize", "CenterCrop"] or any(
        n not in ("Resize", "CenterCrop", "MaybeConvertMode", "function") for n in names
    ):
        return None
    resize = stages[0]
    size = resize.size if isinstance(resize.size, int) else (resize.size[0] if len(resize.size) == 1 else None)
    resample = RESAMPLE.get(getattr(resize.interpolation, "value", str(resize.interpolation)))
    if size is None or resample is None or getattr(resize, "max_size", None):
        return None
    return ProcessorGeometry(shortest_edge=size, crop=input_size, resample=resample)


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

        device, self.dtype = device_and_dtype(settings.device, settings.dtype)
        self.device = torch.device(device)
        if self.device.type == "cpu" and settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        self.batch_size = settings.batch_size or (256 if self.device.type == "cuda" else 64)
        started = time.perf_counter()
        model, _, preprocess = open_clip.create_model_and_transforms(
            weights.model_name, cache_dir=settings.clip_cache_dir, **weights.create_kwargs()
        )
        self.activation = weights.activation
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

        size = self.visual.image_size
        self._input_size = (size, size) if isinstance(size, int) else tuple(size)
        self._geometry, mean, std = split_preprocess(preprocess, self._input_size)
        self._mean = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)

        sha = sha256_file(weights.checkpoint) if (weights.checkpoint and settings.hash_weights) else None
        random_weights = weights.random
        self.info = ModelInfo(
            backend=BACKEND,
            model_id=weights.model_name,
            weights=WeightsIdentity(
                name=weights.display_name(), sha256=sha, source="random" if random_weights else weights.source
            ),
            offline=random_weights,
            random_weights=random_weights,
            device=str(self.device),
            dtype=str(self.dtype).removeprefix("torch."),
        )
        log.info("CLIP %s loaded on %s/%s in %.1fs", self.info.weights, self.device, self.dtype, time.perf_counter() - started)

    @property
    def input_size(self) -> tuple[int, int]:
        return self._input_size

    def geometry(self, image: Image.Image) -> np.ndarray:
        if isinstance(self._geometry, ProcessorGeometry):
            array = self._geometry(image)
        else:
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
                chunk = torch.from_numpy(np.ascontiguousarray(batch[start : start + self.batch_size]))
                if cuda:
                    chunk = chunk.pin_memory().to(self.device, non_blocking=True)
                x = normalize_batch(chunk, self._mean, self._std).to(self.dtype)
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
        self.visual = None
        if self.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()
