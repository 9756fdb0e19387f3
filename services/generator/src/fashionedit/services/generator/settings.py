"""Generator settings, read from ``FASHIONEDIT_GENERATOR_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from fashionedit.services.common import ServiceSettings

BackendName = Literal["flats", "sd3", "sd2", "tiny"]

DEFAULT_MODELS: dict[str, str] = {
    "sd3": "stabilityai/stable-diffusion-3-medium-diffusers",
    "sd2": "stabilityai/stable-diffusion-2-1",
}


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fashionedit" / "generator"


class GeneratorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FASHIONEDIT_GENERATOR_", extra="ignore", populate_by_name=True)

    backend: BackendName = Field(
        default="flats",
        description="flats (offline technical flats, no weights), sd3, sd2 (diffusers pipelines), tiny (random-weight SD3, "
        "offline)",
    )
    model: str | None = Field(
        default=None,
        description=(
            "Hugging Face model id or local pipeline directory for sd3/sd2/tiny. Defaults: sd3 -> "
            "stabilityai/stable-diffusion-3-medium-diffusers, sd2 -> stabilityai/stable-diffusion-2-1, "
            "tiny -> a random-weight pipeline built at start-up under cache_dir"
        ),
    )
    device: str = Field(default="auto", description="auto (CUDA when present, else CPU), cpu, cuda, cuda:N, mps")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        default="auto", description="Weights dtype; auto is float16 on CUDA (the paper's setting) and float32 elsewhere"
    )
    drop_t5: bool = Field(
        default=False,
        description="SD3: load without the T5-XXL encoder (saves ~9 GiB; prompts are then read through CLIP's 77 tokens only)",
    )
    cpu_offload: Literal["none", "model", "sequential"] = Field(
        default="none",
        description="accelerate CPU offload for small GPUs: model (moderate) or sequential (slowest, least memory); needs CUDA",
    )
    compile: bool = Field(default=False, description="torch.compile the denoiser (transformer or UNet); pays off after warm-up")
    compile_mode: str = Field(default="max-autotune-no-cudagraphs", description="torch.compile mode when compile is on")
    channels_last_vae: bool = Field(
        default=False, description="Put the VAE in channels_last memory format (faster decode on GPUs)"
    )
    warmup: bool = Field(
        default=False,
        description="Run one 2-step generation at the default size before reporting ready (pays torch.compile's cost before "
        "traffic)",
    )
    tiny_spec: str = Field(
        default="sd3-tiny",
        description="tiny: fashionedit.tinymodels SD3 spec to build when model is unset (sd3-tiny or sd3-medium)",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir, description="Where the tiny backend builds its random-weight pipeline"
    )
    max_batch_images: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Images per pipeline call. Concurrent requests with the same size, steps and guidance are merged into one call "
            "up to this many images (1: one request at a time); see docs/generator.md for when batching pays"
        ),
    )
    batch_wait_ms: float = Field(
        default=0.0, ge=0.0, le=10_000.0, description="How long to wait for more requests before running a partial batch"
    )
    max_queued_images: int = Field(
        default=64,
        ge=1,
        description="Images waiting for the pipeline before new requests get 503 overloaded (bounds memory and waiting time)",
    )
    timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="Time budget per request; past it 504 timeout and its queued work is dropped (raise it for CPU-only SD3)",
    )

    def model_for_backend(self) -> str | None:
        return self.model or DEFAULT_MODELS.get(self.backend)
