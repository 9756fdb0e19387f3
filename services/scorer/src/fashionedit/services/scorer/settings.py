"""Scorer settings, from ``FASHIONEDIT_SCORER_*`` environment variables.

The defaults are the paper's evaluation: open_clip ViT-L-14 with OpenAI weights
(the same model as ``openai/clip-vit-large-patch14``), CLIP* threshold 0.90,
PSNR with ``cv2.PSNR`` on 256x256 bilinear resizes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fashionedit.contracts.score import MAX_PAIRS_PER_REQUEST
from fashionedit.services.common import ServiceSettings


class ScorerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FASHIONEDIT_SCORER_", extra="ignore", populate_by_name=True)

    backend: Literal["open-clip", "none"] = Field(
        default="open-clip",
        description="CLIP embedder: 'open-clip', or 'none' to serve PSNR/SSIM/LPIPS only (CLIP reported unavailable)",
    )
    clip_model: str = Field(
        default="ViT-L-14",
        description="open_clip model name (built-in config, e.g. 'ViT-L-14'), or 'local-dir:<dir>' / 'hf-hub:<org/repo>' "
        "(then clip_weights is ignored: the folder or repo holds the weights)",
    )
    clip_weights: str = Field(
        default="openai",
        description="For a built-in model name: an open_clip pretrained tag ('openai'), a local checkpoint file "
        "(state_dict, .pt/.bin/.safetensors), or 'random' (random init; needs allow_random_weights)",
    )
    clip_cache_dir: str | None = Field(default=None, description="open_clip / Hugging Face cache folder for hub weights")
    allow_random_weights: bool = Field(
        default=False,
        description="Accept random (test) CLIP or LPIPS weights. Responses then say random_weights=true; never a model score",
    )
    hash_weights: bool = Field(default=True, description="sha256 the weights file at start-up (its identity in every response)")
    device: str = Field(default="auto", description="'auto' (cuda when present, else cpu), 'cpu', 'cuda', 'cuda:1', ...")
    dtype: Literal["float32", "float16", "bfloat16"] = Field(
        default="float32",
        description="CLIP forward precision. float32 is the published evaluation's; float16/bfloat16 are an opt-in speed-up "
        "that can move cosines near the CLIP* threshold (responses name the dtype)",
    )
    clip_quick_gelu: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="CLIP activation. 'auto': what the weights declare (a pretrained tag's quick_gelu, e.g. True for "
        "'openai'; an open_clip_config.json beside a checkpoint file or in a local-dir folder), else the model config's. "
        "'true'/'false' override it",
    )
    batch_size: int = Field(default=0, ge=0, description="Images per CLIP forward; 0 = 256 on CUDA, 64 on CPU")
    batch_across_requests: bool = Field(
        default=True,
        description="Concatenate CLIP inputs from concurrent requests into one forward while the model is busy",
    )
    batch_wait_ms: float = Field(
        default=0.0, ge=0, le=100, description="Extra time a forward waits for more concurrent requests (0: no added latency)"
    )
    max_pairs: int = Field(
        default=MAX_PAIRS_PER_REQUEST,
        ge=1,
        le=MAX_PAIRS_PER_REQUEST,
        description="Pairs per request; more gets 422 (the contract's hard cap is MAX_PAIRS_PER_REQUEST)",
    )
    max_request_pixels: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="Work budget per request: the pixels of every image of every pair, summed (e.g. 64 pairs of 1024x1024 "
        "= 134 M). Over it: 413 payload_too_large, before any decoding",
    )
    max_queued_images: int = Field(
        default=1024, ge=1, description="CLIP inputs waiting for a forward before new requests get 503 overloaded"
    )
    decode_threads: int = Field(default=0, ge=0, description="Threads that decode and resize images; 0 = one per CPU core")
    torch_threads: int = Field(default=0, ge=0, description="torch intra-op threads on CPU; 0 = torch's default")
    psnr_decode: Literal["opencv", "composite"] = Field(
        default="opencv",
        description="How PSNR/SSIM/LPIPS inputs are decoded. 'opencv': cv2.imdecode(IMREAD_COLOR), the published cv2.imread "
        "(alpha dropped, EXIF orientation applied, 16-bit to its high byte, CMYK by OpenCV). 'composite': PIL with alpha "
        "composited on white (FashionEdit's rule elsewhere; not the published numbers for transparent images)",
    )
    jpeg_draft: bool = Field(
        default=False,
        description="Decode large JPEGs at a reduced DCT scale (PIL draft). Faster, but no longer the published eval's "
        "full decode: off by default",
    )
    psnr_identical: Literal["opencv", "exclude"] = Field(
        default="opencv",
        description="Pixel-identical pairs (MSE 0 at 256x256): 'opencv' keeps cv2.PSNR's finite 361.20 dB "
        "(20*log10(255/DBL_EPSILON), what the published eval averaged); 'exclude' reports null and leaves them out of the mean",
    )
    lpips: Literal["auto", "off"] = Field(
        default="auto",
        description="'auto' loads LPIPS (AlexNet) when the lpips package and torchvision's AlexNet weights are present",
    )
    lpips_net: Literal["alex", "vgg", "squeeze"] = Field(default="alex", description="LPIPS backbone")
    workers: int = Field(default=1, ge=1, description="BentoML worker processes (each loads its own model)")
