"""Client settings: where the services are, how long to wait, how to retry.

Every field reads from the environment (``FASHIONEDIT_*``) or a ``.env`` file and
can be overridden in code::

    ClientSettings(generator_url="http://gpu-1:3001,http://gpu-2:3001", edit_timeout_s=120)

A service URL may list several replicas, comma-separated; the client spreads
calls over them round-robin (no Kubernetes needed to scale out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ServiceName = Literal["generator", "editor", "analyzer", "scorer"]
SERVICES: tuple[ServiceName, ...] = ("generator", "editor", "analyzer", "scorer")
DEFAULT_PORTS: dict[str, int] = {"generator": 3001, "editor": 3002, "analyzer": 3003, "scorer": 3004}

UrlList = Annotated[list[str], NoDecode]


def split_urls(value: object) -> list[str]:
    if isinstance(value, str):
        items = [part.strip() for part in value.replace(";", ",").split(",")]
    elif isinstance(value, (list, tuple)):
        items = [str(part).strip() for part in value]
    else:
        raise ValueError("give one URL or a comma-separated list of URLs")
    urls = [item.rstrip("/") for item in items if item]
    if not urls:
        raise ValueError("at least one URL is needed, e.g. http://127.0.0.1:3001")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} is not an http(s) URL; write it like http://127.0.0.1:3001")
    return urls


def default_sessions_dir() -> Path:
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fashionedit" / "sessions"


class ClientSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FASHIONEDIT_", env_file=".env", extra="ignore", populate_by_name=True)

    generator_url: UrlList = Field(
        default=["http://127.0.0.1:3001"], description="FASHIONEDIT_GENERATOR_URL: one or more, comma-separated"
    )
    editor_url: UrlList = Field(default=["http://127.0.0.1:3002"], description="FASHIONEDIT_EDITOR_URL")
    analyzer_url: UrlList = Field(default=["http://127.0.0.1:3003"], description="FASHIONEDIT_ANALYZER_URL")
    scorer_url: UrlList = Field(default=["http://127.0.0.1:3004"], description="FASHIONEDIT_SCORER_URL")

    api_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("FASHIONEDIT_API_TOKEN", "api_token"),
        description="Sent as 'Authorization: Bearer <token>' when set (the services' FASHIONEDIT_API_TOKEN)",
    )

    connect_timeout_s: float = Field(default=5.0, gt=0, description="Time to open a connection to a replica")
    generate_timeout_s: float = Field(default=900.0, gt=0, description="SD3 at 1024² on a CPU is slow; a GPU needs seconds")
    edit_timeout_s: float = Field(default=600.0, gt=0, description="LMM editing answers in tens of seconds")
    analyze_timeout_s: float = Field(default=300.0, gt=0)
    score_timeout_s: float = Field(default=300.0, gt=0)
    info_timeout_s: float = Field(default=10.0, gt=0, description="/v1/info and health probes")

    max_attempts: int = Field(default=4, ge=1, le=20, description="Tries per call, the first included")
    backoff_initial_s: float = Field(default=0.5, ge=0, description="First retry delay; doubles per retry, with jitter")
    backoff_max_s: float = Field(default=30.0, ge=0, description="Cap on one retry delay, Retry-After included")
    retry_read_timeouts: bool = Field(
        default=False,
        description="Also retry when a replica took too long to answer (the work may have run: off by default)",
    )

    max_concurrency: int = Field(default=16, ge=1, description="Calls in flight per service client (async)")

    sessions_dir: Path = Field(default_factory=default_sessions_dir, description="Where design sessions are stored")

    @field_validator("generator_url", "editor_url", "analyzer_url", "scorer_url", mode="before")
    @classmethod
    def _urls(cls, value: object) -> list[str]:
        return split_urls(value)

    def urls(self, service: str) -> list[str]:
        """The replica URLs configured for ``service`` (one of :data:`SERVICES`)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; choose from {', '.join(SERVICES)}")
        return list(getattr(self, f"{service}_url"))

    def timeout_for(self, operation: str) -> float:
        return float(getattr(self, f"{operation}_timeout_s", self.info_timeout_s))

    def token(self) -> str | None:
        return self.api_token.get_secret_value() if self.api_token else None
