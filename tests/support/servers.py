"""Start real server processes on free loopback ports (cf. vLLM's ``RemoteOpenAIServer``).

``BentoServer`` runs ``bentoml serve`` for a service import path, waits on
``/readyz`` (or ``/livez``) and stops the whole process group on exit, so
integration tests exercise the same HTTP stack as production.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "BENTOML_DO_NOT_TRACK": "True",
            "BENTOML_HOME": env.get("BENTOML_HOME", str(Path(os.environ.get("TMPDIR", "/tmp")) / "fashionedit-bentoml-home")),
            "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


class ServerProcess:
    """A subprocess serving HTTP on ``127.0.0.1:port``; a context manager."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        health_path: str = "/readyz",
        startup_timeout: float = 120.0,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.argv = list(argv)
        self.port = port
        self.env = base_env(env)
        if "BENTOML_HOME" not in (env or {}):
            # One BentoML home per server: `bentoml serve` empties $BENTOML_HOME/prometheus_multiproc_dir as it
            # starts, which would wipe the metrics of the servers already running. (A home given on purpose,
            # e.g. a store holding built Bentos, is kept.)
            self.env["BENTOML_HOME"] = str(Path(self.env["BENTOML_HOME"]) / f"server-{port}")
        self.health_path = health_path
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.cwd = cwd or REPO_ROOT
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_file = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        if self.log_path is not None:
            self._log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log_file or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stop() can signal bentoml's worker processes too
        )
        self.wait_healthy()
        return self

    def wait_healthy(self, path: str | None = None, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        path = path or self.health_path
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {' '.join(self.argv)}\n{self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"server not healthy on {path} within {timeout or self.startup_timeout}s\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_bytes()[-n:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)
        finally:
            if self._log_file:
                self._log_file.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BentoServer(ServerProcess):
    """``bentoml serve <target>`` on a free port."""

    def __init__(
        self, target: str, *, env: Mapping[str, str] | None = None, log_path: Path | None = None, **kwargs: object
    ) -> None:
        port = free_port()
        argv = [sys.executable, "-m", "bentoml", "serve", target, "--host", "127.0.0.1", "--port", str(port)]
        super().__init__(argv, port=port, env=env, log_path=log_path, **kwargs)  # type: ignore[arg-type]


class _Stoppable(Protocol):
    def stop(self) -> None: ...


S = TypeVar("S", bound=_Stoppable)


class SharedServer(Generic[S]):
    """One started server for the whole test run, however many conftest files import its fixture.

    Reference-counted: started on the first :meth:`use`, stopped when the last user is done (and at exit).
    """

    def __init__(self, start: Callable[[], S]) -> None:
        self._start = start
        self._lock = threading.Lock()
        self._server: S | None = None
        self._users = 0

    @contextmanager
    def use(self) -> Iterator[S]:
        with self._lock:
            if self._server is None:
                self._server = self._start()
                atexit.register(self._server.stop)
            self._users += 1
            server = self._server
        try:
            yield server
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0 and self._server is not None:
                    self._server.stop()
                    self._server = None
