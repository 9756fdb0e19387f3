"""Analyzer settings, from ``FASHIONEDIT_ANALYZER_*`` environment variables.

The offline default is the ``classical`` backend (no weights, no keys). The two
OpenAI-protocol backends share the reading and re-asking logic and differ in
prompt and box convention:

* ``openai-chat``: the paper's gpt-4.1-mini call (its prompt verbatim, ``json_object``);
* ``openai-vlm``: any OpenAI-compatible VLM server (vLLM serving Qwen2.5-VL / Qwen3-VL).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from fashionedit.contracts import BoxConvention
from fashionedit.services.common import ServiceSettings

BackendName = Literal["classical", "openai-chat", "openai-vlm"]


class AnalyzerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FASHIONEDIT_ANALYZER_", extra="ignore", populate_by_name=True)

    backend: BackendName = Field(default="classical", description="Backend that answers requests without a 'backend' field")
    extra_backends: list[BackendName] = Field(
        default_factory=lambda: list[BackendName](["classical"]),
        description="Backends a request may also pick with its 'backend' field (JSON list); classical is cheap and offline",
    )

    # -- shared by both OpenAI-protocol backends --------------------------------------------
    reask_attempts: int = Field(
        default=2, ge=0, le=5, description="Extra requests when the model's answer cannot be read, before answering 502"
    )
    request_timeout_s: float = Field(default=120.0, gt=0, description="Timeout of one upstream request (seconds)")
    max_retries: int = Field(
        default=2, ge=0, le=10, description="SDK retries (with backoff, honouring Retry-After) on 429/5xx/connection errors"
    )

    # -- openai-chat: the paper's call ------------------------------------------------------
    openai_base_url: str | None = Field(default=None, description="OpenAI API base URL (default: the SDK's, api.openai.com)")
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FASHIONEDIT_ANALYZER_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key for openai-chat (falls back to OPENAI_API_KEY)",
    )
    openai_model: str = Field(default="gpt-4.1-mini", description="Chat model (the paper's: gpt-4.1-mini)")
    openai_response_format: Literal["json_object", "json_schema"] = Field(
        default="json_object",
        description="json_object (the paper's) or json_schema (structured outputs: the reply must match the differences schema)",
    )
    openai_temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature (the paper's: 0)")

    # -- openai-vlm: an OpenAI-compatible VLM server ------------------------------------------
    vlm_base_url: str | None = Field(default=None, description="Base URL of the VLM server, e.g. http://vllm:8000/v1")
    vlm_api_key: SecretStr | None = Field(default=None, description="API key for the VLM server (vLLM: --api-key), if any")
    vlm_model: str = Field(default="Qwen/Qwen2.5-VL-7B-Instruct", description="Model name the VLM server serves")
    vlm_box_convention: BoxConvention = Field(
        default=BoxConvention.XY_PIXELS,
        description="How the VLM writes boxes: xy_pixels (Qwen2.5-VL), xy1000 (Qwen3-VL), yx1000, ... (converted to box_2d)",
    )
    vlm_reference_size: Literal["smart_resize", "original"] = Field(
        default="smart_resize",
        description="For pixel conventions: the image size the pixels refer to: the model's smart-resized input, or the "
        "original's size",
    )
    vlm_patch_factor: int = Field(
        default=28, ge=1, description="smart_resize factor: 28 for Qwen2.5-VL (patch 14 x merge 2), 32 for Qwen3-VL"
    )
    vlm_min_pixels: int = Field(
        default=56 * 56, ge=1, description="smart_resize min_pixels (the server's image processor setting)"
    )
    vlm_max_pixels: int = Field(
        default=28 * 28 * 1280, ge=1, description="smart_resize max_pixels (the server's image processor setting)"
    )
    vlm_response_format: Literal["text", "json_object"] = Field(
        default="text", description="response_format sent to the VLM server (vLLM supports json_object via guided decoding)"
    )
    vlm_temperature: float = Field(default=0.0, ge=0, le=2)
    vlm_prompt: str | None = Field(
        default=None,
        description="Override the VLM prompt; {k}, {key} and {coordinates} are replaced by k, the box key and the coordinate "
        "format",
    )

    # -- classical ----------------------------------------------------------------------------
    classical_work_side: int = Field(
        default=384, ge=64, le=1024, description="Longest side the classical backend compares at (pixels)"
    )
    classical_min_region: float = Field(
        default=0.0015, gt=0, lt=1, description="Smallest region kept, as a fraction of the image area"
    )

    def openai_key(self) -> str | None:
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None

    def vlm_key(self) -> str | None:
        return self.vlm_api_key.get_secret_value() if self.vlm_api_key else None
