"""LPIPS (Zhang et al. 2018, the ``lpips`` package) on the same 256x256 RGB arrays as PSNR.

The package ships its linear heads, but the backbone (AlexNet by default) comes
from torchvision's ImageNet weights, which torchvision downloads into the torch
hub cache. Nothing may be downloaded here, so LPIPS is available only when that
file is already in the cache. torchvision names its files after the sha256
prefix (``alexnet-owt-7be5be79.pth``): a file whose hash does not match is not
torchvision's and is accepted only as random test weights.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fashionedit.contracts import WeightsIdentity
from fashionedit.services.common.devices import resolve_device

from .settings import ScorerSettings

log = logging.getLogger(__name__)

_BACKBONE_WEIGHTS = {"alex": "AlexNet_Weights", "vgg": "VGG16_Weights", "squeeze": "SqueezeNet1_1_Weights"}


@dataclass
class LpipsUnavailable:
    reason: str


def backbone_checkpoint(net: str) -> tuple[Path, str]:
    """Where torchvision caches the backbone weights, and the sha256 prefix its name promises."""
    import torch
    import torchvision.models as tvm

    url = getattr(tvm, _BACKBONE_WEIGHTS[net]).IMAGENET1K_V1.url
    name = os.path.basename(url)
    return Path(torch.hub.get_dir()) / "checkpoints" / name, name.rsplit("-", 1)[-1].split(".")[0]


class LpipsMetric:
    def __init__(self, settings: ScorerSettings, device: Any) -> None:
        import lpips
        import torch

        from .backends.openclip import sha256_file

        path, prefix = backbone_checkpoint(settings.lpips_net)
        sha = sha256_file(path)
        self.random_weights = not sha.startswith(prefix)
        if self.random_weights and not settings.allow_random_weights:
            raise PermissionError(
                f"{path} is not torchvision's {settings.lpips_net} checkpoint (sha256 {sha[:8]}..., expected {prefix}...); "
                "random test weights need FASHIONEDIT_SCORER_ALLOW_RANDOM_WEIGHTS=true"
            )
        self.weights = WeightsIdentity(
            name=f"lpips-{settings.lpips_net}-v0.1 + {path.name}", sha256=sha, source="random" if self.random_weights else "local"
        )
        self.device = device
        self.model = lpips.LPIPS(net=settings.lpips_net, version="0.1", verbose=False).to(device).eval()
        self._torch = torch

    def __call__(self, generated: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """``(N, 256, 256, 3)`` uint8 pairs -> ``(N,)`` distances (inputs scaled to [-1, 1] as LPIPS expects)."""
        torch = self._torch

        def tensor(batch: np.ndarray) -> Any:
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device).permute(0, 3, 1, 2).float()
            return x.div_(127.5).sub_(1.0)

        with torch.inference_mode():
            return self.model(tensor(generated), tensor(reference)).flatten().float().cpu().numpy()


def load_lpips(settings: ScorerSettings) -> LpipsMetric | LpipsUnavailable:
    if settings.lpips == "off":
        return LpipsUnavailable("LPIPS is switched off (FASHIONEDIT_SCORER_LPIPS=off)")
    try:
        import lpips  # noqa: F401
        import torch
        import torchvision  # noqa: F401
    except ImportError as exc:
        return LpipsUnavailable(f"the lpips package is not installed ({exc}); install fashionedit-scorer[lpips]")
    path, _ = backbone_checkpoint(settings.lpips_net)
    if not path.is_file():
        return LpipsUnavailable(
            f"LPIPS needs torchvision's ImageNet {settings.lpips_net} weights at {path} (set TORCH_HOME to a cache that "
            "holds them); they are not there and nothing is downloaded"
        )
    try:
        return LpipsMetric(settings, torch.device(resolve_device(settings.device)))
    except Exception as exc:  # noqa: BLE001 - a bad checkpoint becomes an explained 'unavailable'
        log.warning("LPIPS could not be loaded: %s", exc)
        return LpipsUnavailable(f"LPIPS could not be loaded: {str(exc)[:400]}")
