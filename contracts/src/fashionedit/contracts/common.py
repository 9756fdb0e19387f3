"""Pieces every response shares: which model answered, how long it took, what it cost, and errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    """Base for all contracts: unknown fields are refused so typos surface as 422s."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class WeightsIdentity(Contract):
    """What weights produced a result: a name and, where a file was loaded, its sha256."""

    name: str = Field(description="Hub tag, checkpoint name or local path")
    sha256: str | None = Field(default=None, description="sha256 of the checkpoint file, when one file holds the weights")
    source: Literal["hub", "local", "random", "api", "none"] = "local"


class ModelInfo(Contract):
    """Which backend, model and weights produced a response."""

    backend: str = Field(description="Backend name as configured, e.g. 'diffusers', 'flats', 'openai-responses'")
    model_id: str = Field(description="Model identifier, e.g. 'stabilityai/stable-diffusion-3-medium-diffusers'")
    weights: WeightsIdentity | None = None
    offline: bool = Field(description="True on the offline profile: results do not come from the paper's models")
    random_weights: bool = Field(default=False, description="True when the weights are random (tests only); never a model score")
    device: str | None = None
    dtype: str | None = None


class Timings(Contract):
    """Wall-clock timings in milliseconds; ``stages`` breaks ``total_ms`` down."""

    total_ms: float = Field(ge=0)
    stages: dict[str, float] = Field(default_factory=dict)


class Usage(Contract):
    """What an upstream provider reports it used, where it reports it."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    images: int | None = None


class ErrorDetail(Contract):
    loc: list[str | int] = Field(default_factory=list, description="Where in the request the problem is")
    message: str
    type: str | None = None


ErrorCode = Literal[
    "invalid_request",  # 422: the request can be fixed by the caller
    "unauthorized",  # 401
    "not_found",  # 404
    "payload_too_large",  # 413
    "unsupported_media_type",  # 415: the body is not JSON
    "overloaded",  # 503: too many requests in flight
    "not_ready",  # 503: model still loading
    "unavailable",  # 503: a capability is not configured (e.g. no CLIP weights)
    "upstream_error",  # 502: the provider answered badly
    "upstream_unavailable",  # 503: the provider is rate-limiting or down
    "upstream_timeout",  # 504: the provider did not answer in time
    "timeout",  # 504: the request used up the service's time budget; its work was stopped
    "internal_error",  # 500: a bug; the message carries the request id only
]


class ErrorBody(Contract):
    code: ErrorCode
    message: str = Field(description="What went wrong and what to do about it")
    status: int = Field(ge=400, le=599)
    details: list[ErrorDetail] = Field(default_factory=list)
    request_id: str | None = None
    retry_after: float | None = Field(default=None, description="Seconds to wait before retrying, when known")
    retryable: bool | None = Field(
        default=None,
        description="false: the service already retried its upstream provider (or a retry cannot help), so the caller must not "
        "retry; true: nothing was spent, retry after retry_after; absent: decide by status and code. Also sent as the "
        "x-should-retry header",
    )


class ErrorResponse(Contract):
    """The one error shape every service returns."""

    error: ErrorBody

    @classmethod
    def make(cls, status: int, code: ErrorCode, message: str, **kwargs: Any) -> ErrorResponse:
        return cls(error=ErrorBody(status=status, code=code, message=message, **kwargs))


class Health(Contract):
    status: Literal["ok", "loading", "error"]
    service: str
    model: ModelInfo | None = None
    message: str | None = None


class ServiceInfo(Contract):
    """What ``POST /v1/info`` returns: which service, which model, and its limits (never secrets)."""

    service: Literal["generator", "editor", "analyzer", "scorer"] | str
    version: str
    ready: bool
    model: ModelInfo | None = None
    backends: list[str] = Field(default_factory=list, description="Backends this deployment can serve")
    limits: dict[str, Any] = Field(default_factory=dict, description="Request limits, e.g. max pairs or references")
    message: str | None = Field(default=None, description="Why not ready, or what is unavailable")


class InfoRequest(Contract):
    """``POST /v1/info`` takes an empty JSON object (BentoML routes are POST with a body)."""
