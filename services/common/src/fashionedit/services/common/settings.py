"""Settings every service shares; each service subclasses with its own ``env_prefix``.

Values come from the environment (``FASHIONEDIT_<SERVICE>_*``), then from
shared ``FASHIONEDIT_*`` variables for the cross-cutting ones below.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FASHIONEDIT_", extra="ignore", populate_by_name=True)

    max_concurrency: int = Field(
        default=8,
        ge=1,
        description="Requests in flight per worker before new ones get 503 overloaded (with Retry-After)",
    )
    timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="Time budget per request: past it the caller gets 504 'timeout' and the request's work is stopped",
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted (bytes, after any transfer encoding); larger ones get 413 payload_too_large",
    )
    api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FASHIONEDIT_API_TOKEN"),
        description="When set, every route except health and docs needs 'Authorization: Bearer <token>'",
    )
    load_in_background: bool = Field(
        default=True,
        description="Load models in a thread so /livez answers while /readyz waits for the model",
    )
