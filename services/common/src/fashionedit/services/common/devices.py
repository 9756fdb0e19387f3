"""Where and in which precision a torch model runs: one rule for the generator, the editor and the scorer.

* Device ``auto``: CUDA when torch sees a GPU, else CPU (Apple's MPS too where a caller allows it).
* Dtype ``auto``: the half precision the model family was published in (``half``: float16 for SD3, as the
  paper ran it; bfloat16 for the open editing models) on CUDA, float32 elsewhere, since CPUs have no
  fast half-precision path. A named dtype is used as given.

torch is imported only when these are called: the analyzer and the client never load it.
"""

from __future__ import annotations

from typing import Any, Literal

DtypeName = Literal["auto", "float32", "float16", "bfloat16"]
HalfPrecision = Literal["float16", "bfloat16"]


def resolve_device(name: str, *, allow_mps: bool = False) -> str:
    """``name`` itself, or for ``auto`` the best device torch can see here."""
    import torch

    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if allow_mps and getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(name: str, device: str, *, half: HalfPrecision = "float16") -> Any:
    """The ``torch.dtype`` for ``name`` on ``device`` (``auto``: ``half`` on CUDA, float32 elsewhere)."""
    import torch

    if name == "auto":
        return getattr(torch, half) if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


def device_and_dtype(device: str, dtype: str, *, half: HalfPrecision = "float16", allow_mps: bool = False) -> tuple[str, Any]:
    """Both at once: ``(device name, torch.dtype)``."""
    resolved = resolve_device(device, allow_mps=allow_mps)
    return resolved, resolve_dtype(dtype, resolved, half=half)
