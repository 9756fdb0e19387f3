"""Fixtures for the studio's tests: the four services (offline profile), a `fashionedit studio` process, headless Chromium.

Screenshots of each step go to ``$FASHIONEDIT_STUDIO_SCREENSHOTS`` when set, else to a pytest temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients.conftest import black_hole  # noqa: F401 - re-exported fixture: a URL that never answers
from tests.support.servers import ServerProcess, free_port
from tests.support.stack import service_stack  # noqa: F401 - re-exported fixture

CHROMIUM = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class StudioProcess:
    server: ServerProcess
    sessions_dir: Path
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


def start_studio(sessions_dir: Path, log_path: Path, env: Mapping[str, str]) -> StudioProcess:
    port = free_port()
    full_env = {**env, "FASHIONEDIT_SESSIONS_DIR": str(sessions_dir)}
    argv = [sys.executable, "-m", "fashionedit.client", "studio", "--port", str(port)]
    server = ServerProcess(argv, port=port, env=full_env, health_path="/readyz", startup_timeout=60, log_path=log_path)
    return StudioProcess(server.start(), sessions_dir, full_env)


@pytest.fixture(scope="module")
def studio(service_stack, tmp_path_factory) -> Iterator[StudioProcess]:
    """`fashionedit studio` on a free port, talking to the shared service stack; its own sessions folder."""
    root = tmp_path_factory.mktemp("studio")
    process = start_studio(root / "sessions", root / "studio.log", service_stack.client_env())
    try:
        yield process
    finally:
        process.server.stop()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium; scripts/setup.sh does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("FASHIONEDIT_STUDIO_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("studio-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
