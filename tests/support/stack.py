"""All four services as real ``bentoml serve`` processes on the offline profile, shared by a whole test run.

Use the pytest fixture from a test package's conftest.py::

    from tests.support.stack import service_stack  # noqa: F401

    def test_something(service_stack):
        settings = service_stack.client_settings()          # fashionedit.client.ClientSettings
        env = service_stack.client_env()                    # FASHIONEDIT_<SERVICE>_URL for subprocesses

The stack starts once per test run (the services start in parallel; on this 2-core machine that takes
tens of seconds) even when several conftest files import the fixture, and stops when the last user is
done. Logs go to ``$TMPDIR/fashionedit-test-stack/<service>.log`` and are printed when a start fails.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from fashionedit.client.local import TARGETS
from tests.support.servers import BentoServer, SharedServer

SERVICES = ("generator", "editor", "analyzer", "scorer")
# The offline profile: flats generator, local editor, classical analyzer, scorer without CLIP (PSNR/SSIM only).
# The editor skips building its tiny random-weight SD3 (text edits of non-flat images): flats are edited by
# re-rendering and references are placed classically, and torch's import plus the build would double the
# stack's start-up on this 2-core machine. Pass env={"editor": {"FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3": "true"}}
# to a ServiceStack of your own where a test needs it.
OFFLINE_ENV: dict[str, dict[str, str]] = {
    "generator": {"FASHIONEDIT_GENERATOR_BACKEND": "flats"},
    "editor": {"FASHIONEDIT_EDITOR_BACKEND": "local", "FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3": "false"},
    "analyzer": {"FASHIONEDIT_ANALYZER_BACKEND": "classical"},
    "scorer": {"FASHIONEDIT_SCORER_BACKEND": "none"},
}


class ServiceStack:
    """The four services, each a :class:`BentoServer` on a free loopback port."""

    def __init__(
        self, *, env: Mapping[str, Mapping[str, str]] | None = None, log_dir: Path | None = None, startup_timeout: float = 240.0
    ) -> None:
        self.log_dir = log_dir or Path(tempfile.gettempdir()) / f"fashionedit-test-stack-{os.getpid()}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.servers: dict[str, BentoServer] = {}
        for name in SERVICES:
            service_env = {"OMP_NUM_THREADS": "1", **OFFLINE_ENV[name], **(env or {}).get(name, {})}
            self.servers[name] = BentoServer(
                TARGETS[name], env=service_env, log_path=self.log_dir / f"{name}.log", startup_timeout=startup_timeout
            )

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def client_env(self) -> dict[str, str]:
        """Environment variables that point the client (and the `fashionedit` CLI) at this stack."""
        return {f"FASHIONEDIT_{name.upper()}_URL": url for name, url in self.urls.items()}

    def client_settings(self, **overrides: Any):
        from fashionedit.client import ClientSettings

        fields: dict[str, Any] = {f"{name}_url": [url] for name, url in self.urls.items()}
        fields.update(overrides)
        return ClientSettings(**fields)

    def start(self) -> ServiceStack:
        with ThreadPoolExecutor(len(self.servers)) as pool:
            futures = {name: pool.submit(server.start) for name, server in self.servers.items()}
            errors = []
            for name, future in futures.items():
                try:
                    future.result()
                except Exception as exc:  # noqa: BLE001 - collected and raised together below
                    errors.append(f"{name}: {exc}")
        if errors:
            self.stop()
            raise RuntimeError("service stack failed to start:\n" + "\n".join(errors))
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> ServiceStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_shared = SharedServer(lambda: ServiceStack().start())


@pytest.fixture(scope="session")
def service_stack() -> Iterator[ServiceStack]:
    """All four services (offline profile) as real `bentoml serve` processes, for the whole test run."""
    with _shared.use() as stack:
        yield stack
