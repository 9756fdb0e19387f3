"""``OpenAIProtocolServer``: the local OpenAI-protocol server as a real process, plus its control API."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.support.servers import ServerProcess, free_port

if TYPE_CHECKING:
    import openai

DEFAULT_API_KEY = "sk-local-test-key"


class OpenAIProtocolServer(ServerProcess):
    """``python -m tests.support.openai_server`` on a free loopback port.

    Use ``base_url`` and ``api_key`` with the official SDK (or :meth:`client`), script replies
    with :meth:`script`, and read back what the SDK sent with :meth:`requests`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        latency_s: float = 0.0,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "tests.support.openai_server", "--port", str(port), "--latency", str(latency_s)]
        if api_key is not None:
            argv += ["--api-key", api_key]
        self._api_key = api_key
        self._http: httpx.Client | None = None
        super().__init__(argv, port=port, env=env, health_path="/health", startup_timeout=startup_timeout, log_path=log_path)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def api_key(self) -> str:
        # Without a required key, any key works; the SDK still needs one.
        return self._api_key if self._api_key is not None else "sk-any"

    # -- control API ------------------------------------------------------------------------
    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._http is None:  # one pooled client: a fresh one per call costs ~0.1 s (TLS context set-up)
            self._http = httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)
        response = self._http.request(method, f"/_control/{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} /_control/{path} -> {response.status_code}: {response.text}")
        return response.json()

    def script(self, endpoint: str, *replies: Mapping[str, Any]) -> dict[str, int]:
        """Queue replies for ``endpoint`` ("responses" | "images" | "chat" | "*"), consumed first in, first out.

        Reply fields (see ``app.REPLY_FIELDS``): status, headers, error, json, body, delay_s, times,
        content, refusal, finish_reason, k, box_convention, bare_list, wrap, no_image, text,
        image_status, image_b64. An empty reply ``{}`` means "answer normally".
        """
        return self._control("POST", "script", json={"endpoint": endpoint, "replies": [dict(r) for r in replies]})["queued"]

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        """Scripted replies not consumed yet, per endpoint."""
        return self._control("GET", "script")["pending"]

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Every request received (optionally for one endpoint), oldest first."""
        params = {"endpoint": endpoint} if endpoint else None
        return self._control("GET", "requests", params=params)["requests"]

    def reset(self) -> None:
        """Forget scripted replies and logged requests."""
        self._control("POST", "reset")

    def configure(self, *, latency_s: float | None = None) -> dict[str, Any]:
        """Set server-wide behaviour; ``latency_s``: every answer waits that long (asyncio sleep)."""
        body = {} if latency_s is None else {"latency_s": latency_s}
        return self._control("POST", "config", json=body)

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        super().stop()

    # -- SDK clients ------------------------------------------------------------------------
    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` for this server; ``max_retries`` 0 and ``timeout`` 30 s unless given."""
        import openai

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 30.0)
        return openai.OpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key), **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        import openai

        kwargs.setdefault("max_retries", 0)
        kwargs.setdefault("timeout", 30.0)
        return openai.AsyncOpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key), **kwargs)
