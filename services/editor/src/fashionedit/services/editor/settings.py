"""Editor settings: environment variables ``FASHIONEDIT_EDITOR_*`` (every field documented below).

Secrets (the OpenAI key) are :class:`SecretStr`: they never appear in ``repr``, logs or responses.
The key can come from ``FASHIONEDIT_EDITOR_OPENAI_API_KEY``, ``OPENAI_API_KEY`` or a file
(``FASHIONEDIT_EDITOR_OPENAI_API_KEY_FILE``, e.g. a mounted Kubernetes secret).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from fashionedit.contracts.edit import BUG_PROMPT, MAX_REFERENCES, VANILLA_PROMPT
from fashionedit.services.common import ServiceSettings

BACKEND_NAMES = ("local", "openai-responses", "openai-images", "qwen-edit", "flux-kontext")

Quality = Literal["auto", "low", "medium", "high"]
Fidelity = Literal["low", "high"]


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"FASHIONEDIT_EDITOR_{name}", *aliases)


class EditorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FASHIONEDIT_EDITOR_", extra="ignore", populate_by_name=True)

    # -- which backend ------------------------------------------------------------------------
    backend: str = Field(
        default="local", description="Default backend: local | openai-responses | openai-images | qwen-edit | flux-kontext"
    )
    allowed_backends: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Further backends a request may pick with 'backend' (comma-separated); each is loaded at start-up",
    )

    # -- prompts (the paper's, verbatim, by default) --------------------------------------------
    vanilla_prompt: str = Field(default=VANILLA_PROMPT, description="Text-as-prompt template (no references)")
    bug_prompt: str = Field(default=BUG_PROMPT, description="Image-into-prompt template (with references)")
    prompt_separator: str = Field(
        default="",
        description="Put between template and instruction; the paper uses none. A template containing "
        "'{instruction}' is formatted instead",
    )

    # -- input limits ----------------------------------------------------------------------------
    max_reference_pixels: int = Field(default=4096 * 4096, ge=1, description="Largest reference image, in pixels")
    max_reference_bytes: int = Field(default=20 * 1024 * 1024, ge=1, description="Largest encoded reference image, in bytes")

    # -- OpenAI (or any OpenAI-compatible provider) -----------------------------------------------
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("OPENAI_API_KEY", "OPENAI_API_KEY"), description="API key (secret)"
    )
    openai_api_key_file: Path | None = Field(default=None, description="File holding the API key (a mounted secret)")
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=_env("OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Provider base URL, e.g. https://api.openai.com/v1",
    )
    openai_timeout_s: float = Field(default=180.0, gt=0, description="Timeout of one provider request (each attempt)")
    openai_max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries on 408/409/429/5xx/timeouts (SDK backoff + jitter, honours Retry-After)"
    )
    openai_max_concurrency: int = Field(default=4, ge=1, description="Provider requests in flight per worker (per provider)")
    openai_queue_timeout_s: float = Field(
        default=30.0, ge=0, description="How long a request waits for a provider slot before 503"
    )
    openai_max_references: int = Field(
        default=15, ge=1, le=MAX_REFERENCES, description="Most references sent (gpt-image-1 takes 16 images in all)"
    )
    openai_size: str | None = Field(
        default=None, description="Default output size (e.g. 1024x1024, auto); unset: the provider's default"
    )
    openai_quality: Quality | None = Field(default=None, description="Default quality; unset: the provider's default")
    openai_input_fidelity: Fidelity | None = Field(
        default=None, description="Default input_fidelity; unset: the provider's default"
    )

    responses_model: str = Field(
        default="gpt-4.1-mini", description="openai-responses: the Responses API model (paper: gpt-4.1-mini)"
    )
    responses_image_model: str | None = Field(
        default=None, description="openai-responses: the image_generation tool's model; unset: provider default"
    )
    responses_force_tool: bool = Field(
        default=False, description="openai-responses: tool_choice forces image_generation (the paper leaves it to the model)"
    )
    images_model: str = Field(default="gpt-image-1", description="openai-images: the images.edit model")

    # -- local --------------------------------------------------------------------------------------
    local_sd3_model: str | None = Field(
        default=None,
        description="SD3 weights (local folder or hub id in the HF cache) for text-as-prompt img2img and box inpainting",
    )
    local_random_sd3: bool = Field(
        default=False,
        description="Without local_sd3_model, build a tiny random-weight SD3 for tests (its output is noise; responses say "
        "random_weights and warn). Off: text edits of pictures are a 503 naming the missing weights",
    )
    local_keep_aspect: bool = Field(
        default=True, description="Image-into-prompt: fit the reference inside the box keeping its aspect ratio (centred)"
    )
    local_remove_background: bool = Field(
        default=True, description="Image-into-prompt: leave out the reference's own plain background (estimated from its border)"
    )
    local_refine: Literal["auto", "classical", "sd3"] = Field(
        default="auto",
        description="Image-into-prompt: 'classical' placement only, 'sd3' refinement in the box, 'auto' = sd3 only with real "
        "weights",
    )
    local_seam: Literal["feather", "poisson", "mixed"] = Field(
        default="feather", description="Seam harmonisation: feathered alpha, or OpenCV seamlessClone (poisson/mixed)"
    )
    local_feather: float = Field(
        default=0.08,
        ge=0.0,
        le=0.5,
        description="Feather band as a fraction of the box's shorter side, applied along sides where the reference would show a "
        "seam",
    )
    local_strength: float = Field(default=0.6, gt=0.0, le=1.0, description="img2img strength for text-as-prompt edits")
    local_refine_strength: float = Field(
        default=0.35, gt=0.0, le=1.0, description="Strength of the SD3 refinement inside the box"
    )
    local_steps: int = Field(default=28, ge=1, le=150, description="Denoising steps (paper: 28)")
    local_guidance: float = Field(default=7.0, ge=0.0, le=30.0, description="Guidance scale (paper: 7.0)")
    local_device: str = Field(default="auto", description="torch device: auto | cpu | cuda | cuda:N")
    local_dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        default="auto", description="auto: fp16 on CUDA, fp32 on CPU"
    )
    local_match_min_score: float = Field(
        default=0.3, ge=-1.0, le=1.0, description="Least template-matching score to accept a found box when none is given"
    )

    # -- open-weights instruction editors (qwen-edit, flux-kontext; docs/editor.md) -----------------
    qwen_edit_model: str | None = Field(
        default=None, description="qwen-edit: diffusers folder or hub id in the HF cache, e.g. Qwen/Qwen-Image-Edit-2509"
    )
    qwen_edit_revision: str | None = Field(default=None, description="qwen-edit: hub revision (branch, tag or commit)")
    qwen_edit_max_references: int = Field(
        default=2,
        ge=1,
        le=MAX_REFERENCES,
        description="qwen-edit: most references per edit (the model is tuned for 1-3 images in all)",
    )
    qwen_edit_vae_area: int | None = Field(
        default=None, ge=64, description="qwen-edit: pixels each input image is encoded at; unset: the pipeline's 1024x1024"
    )
    flux_kontext_model: str | None = Field(
        default=None,
        description="flux-kontext: diffusers folder or hub id in the HF cache, e.g. black-forest-labs/FLUX.1-Kontext-dev",
    )
    flux_kontext_revision: str | None = Field(default=None, description="flux-kontext: hub revision (branch, tag or commit)")
    flux_kontext_max_sequence_length: int = Field(default=512, ge=16, le=512, description="flux-kontext: T5 prompt tokens")
    open_edit_device: str = Field(
        default="auto", description="qwen-edit / flux-kontext: torch device: auto | cpu | cuda | cuda:N"
    )
    open_edit_dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        default="auto", description="auto: bf16 on CUDA, fp32 on CPU"
    )
    open_edit_cpu_offload: Literal["none", "model", "sequential"] = Field(
        default="none",
        description="Keep weights in host memory (CUDA only): 'model' moves whole components to the GPU in turn, "
        "'sequential' layer by layer (least memory, slowest)",
    )
    open_edit_steps: int | None = Field(
        default=None, ge=1, le=150, description="Denoising steps; unset: the model's (qwen-edit 40, flux-kontext 28)"
    )
    open_edit_guidance: float | None = Field(
        default=None, ge=0.0, le=30.0, description="qwen-edit true CFG / flux-kontext guidance; unset: 4.0 / 2.5"
    )
    open_edit_max_area: int = Field(
        default=1024 * 1024, ge=64, description="Working area in pixels (the design's aspect ratio); the result is resized back"
    )

    @field_validator("allowed_backends", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {value!r}; choose one of {', '.join(BACKEND_NAMES)}")
        return value

    @field_validator("allowed_backends")
    @classmethod
    def _known_backends(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in BACKEND_NAMES]
        if unknown:
            raise ValueError(f"unknown backend(s) {unknown}; choose from {', '.join(BACKEND_NAMES)}")
        return value

    @property
    def backends(self) -> list[str]:
        """The default backend first, then the other allowed ones."""
        return [self.backend] + [b for b in dict.fromkeys(self.allowed_backends) if b != self.backend]

    def api_key(self) -> str | None:
        """The key from the variable, else from the key file; never log the result."""
        if self.openai_api_key is not None and self.openai_api_key.get_secret_value().strip():
            return self.openai_api_key.get_secret_value().strip()
        if self.openai_api_key_file is not None:
            text = Path(self.openai_api_key_file).read_text().strip()
            return text or None
        return None
