"""One analyzer server (offline classical backend, bearer token on) shared by the HTTP tests of this package.

Where the tests may create a mount namespace (root, as in CI), the server runs the way the compose and
Kubernetes deployments run the images: the root filesystem read-only, a fresh tmpfs at /tmp, HOME pointing
nowhere, BentoML's home and caches under /tmp. A service that wrote anywhere else, at start-up or per
request, would fail here.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys

import pytest

from tests.support.servers import ServerProcess, free_port

API_TOKEN = "deploy-test-token-7f3a"
# In a private mount namespace: / read-only, /tmp a tmpfs (the images' emptyDir), then the command.
READ_ONLY_ROOT = [
    "unshare",
    "--mount",
    "--",
    "sh",
    "-c",
    'mount -o remount,ro,bind / && mount -t tmpfs -o size=512m,mode=1777 tmpfs /tmp && exec "$@"',
    "sh",
]


@functools.cache
def read_only_root_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    # The fresh tmpfs hides whatever lived under /tmp: a checkout or venv there (a CI clone may be) would vanish.
    from pathlib import Path

    from tests.support.servers import REPO_ROOT

    if any(Path(p).resolve().is_relative_to("/tmp") for p in (sys.prefix, sys.executable, REPO_ROOT)):
        return False
    probe = subprocess.run(
        [*READ_ONLY_ROOT, "sh", "-c", "! touch /etc/fashionedit-probe 2>/dev/null && touch /tmp/ok"], capture_output=True
    )
    return probe.returncode == 0


@pytest.fixture(scope="package")
def analyzer_with_token(tmp_path_factory):
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "bentoml",
        "serve",
        "fashionedit.services.analyzer.service:Analyzer",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {"FASHIONEDIT_API_TOKEN": API_TOKEN, "FASHIONEDIT_ANALYZER_BACKEND": "classical"}
    if read_only_root_available():
        argv = [*READ_ONLY_ROOT, *argv]
        env |= {"HOME": "/nonexistent", "BENTOML_HOME": "/tmp/bentoml", "XDG_CACHE_HOME": "/tmp/cache", "TMPDIR": "/tmp"}
    log_path = tmp_path_factory.mktemp("analyzer") / "bentoml.log"
    with ServerProcess(argv, port=port, env=env, log_path=log_path) as server:
        server.read_only_root = read_only_root_available()
        yield server
