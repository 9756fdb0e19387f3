"""Start the four services on this machine, each its own ``bentoml serve`` process.

Used by ``fashionedit up`` and ``fashionedit demo``. Each service runs in its own
process group (so its BentoML workers stop with it), logs to
``<run dir>/<service>.log``, and counts as started when ``/readyz`` answers 200
(the model is loaded). :meth:`LocalServices.stop` sends SIGTERM to each group,
then SIGKILL to whatever is left after a grace period.

The services need their distributions installed in this Python environment
(``bash scripts/setup.sh`` installs everything).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import logging.handlers
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fashionedit.contracts.files import atomic_write_text

from .settings import DEFAULT_PORTS, SERVICES

TARGETS: dict[str, str] = {
    "generator": "fashionedit.services.generator.service:Generator",
    "editor": "fashionedit.services.editor.service:Editor",
    "analyzer": "fashionedit.services.analyzer.service:Analyzer",
    "scorer": "fashionedit.services.scorer.service:Scorer",
}

# The offline profile spelled out per service: its no-weights, no-keys backend. A service gets it unless the
# user configured that service (any FASHIONEDIT_<SERVICE>_* variable other than its URL), or always with --offline.
OFFLINE_ENV: dict[str, dict[str, str]] = {
    "generator": {"FASHIONEDIT_GENERATOR_BACKEND": "flats"},
    "editor": {"FASHIONEDIT_EDITOR_BACKEND": "local"},
    "analyzer": {"FASHIONEDIT_ANALYZER_BACKEND": "classical"},
    "scorer": {"FASHIONEDIT_SCORER_BACKEND": "none"},  # PSNR/SSIM only; CLIP reported unavailable
}
# Nothing on the offline profile may download weights.
OFFLINE_COMMON_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def configured(name: str, environ: Mapping[str, str]) -> bool:
    """Whether the user configured a service's backend, model or weights in ``environ``."""
    prefix = f"FASHIONEDIT_{name.upper()}_"
    return any(key.startswith(prefix) and key != f"{prefix}URL" for key in environ)


def service_environment(name: str, environ: Mapping[str, str], *, offline: bool = False) -> tuple[dict[str, str], str]:
    """The environment a service process gets, and its profile: 'offline' or 'configured'."""
    env = dict(environ)
    profile = "offline" if offline or not configured(name, environ) else "configured"
    if profile == "offline":
        prefix = f"FASHIONEDIT_{name.upper()}_"
        env = {key: value for key, value in env.items() if not key.startswith(prefix)}
        env.update(OFFLINE_ENV[name])
        env.update(OFFLINE_COMMON_ENV)
    env.setdefault("BENTOML_DO_NOT_TRACK", "True")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env, profile


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _loopback_free_port(url: str) -> int:
    """The port of a loopback URL when it is free to bind, else any free port."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.hostname in ("127.0.0.1", "localhost") and parsed.port and port_is_free("127.0.0.1", parsed.port):
        return parsed.port
    return free_port()


def missing_services(names: Iterable[str]) -> list[str]:
    """Services whose distribution is not installed here (their module cannot be found)."""
    out = []
    for name in names:
        module = TARGETS[name].split(":")[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


@dataclass
class ServiceProcess:
    name: str
    target: str
    host: str
    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = field(default_factory=time.monotonic)
    ready_after_s: float | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""


class ServiceStartError(RuntimeError):
    pass


LOG_MAX_BYTES = int(os.environ.get("FASHIONEDIT_LOG_MAX_BYTES", str(20 * 1024 * 1024)))
LOG_BACKUPS = 3


def copy_rotating(stream, path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS) -> threading.Thread:
    """Copy a child's output into ``path``, rotating to ``path.1`` ... ``path.<backups>`` past ``max_bytes``.

    A long-running ``fashionedit up`` then keeps at most ``(backups + 1) * max_bytes`` of logs per service.
    """
    handler = logging.handlers.RotatingFileHandler(path, mode="w", maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))

    def pump() -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
        finally:
            handler.close()
            stream.close()

    thread = threading.Thread(target=pump, name=f"log-{path.stem}", daemon=True)
    thread.start()
    return thread


class LocalServices:
    """A set of local service processes; a context manager that stops them on exit."""

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        services: Iterable[str] = SERVICES,
        ports: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
        offline: bool = False,
        env: Mapping[str, str] | None = None,
        startup_timeout_s: float = 600.0,
    ) -> None:
        self.run_dir = Path(run_dir).expanduser().resolve()
        self.host = host
        self.offline = offline
        self.extra_env = dict(env or {})
        self.startup_timeout_s = startup_timeout_s
        ports = dict(ports or {})
        self.processes: dict[str, ServiceProcess] = {}
        for name in services:
            if name not in TARGETS:
                raise ValueError(f"unknown service {name!r}; choose from {', '.join(TARGETS)}")
            port = ports.get(name, DEFAULT_PORTS[name])
            self.processes[name] = ServiceProcess(name, TARGETS[name], host, port, self.run_dir / f"{name}.log")

    def environment(self, name: str) -> dict[str, str]:
        env, _ = service_environment(name, os.environ, offline=self.offline)
        # Each service its own BentoML home: `bentoml serve` empties $BENTOML_HOME/prometheus_multiproc_dir as
        # it starts, which would wipe the /metrics of the services already running (the services keep no
        # Bentos or models there: weights come from their own paths and caches).
        env["BENTOML_HOME"] = str(self.run_dir / "bentoml" / name)
        env.update(self.extra_env)
        return env

    def profiles(self) -> dict[str, str]:
        return {name: service_environment(name, os.environ, offline=self.offline)[1] for name in self.processes}

    def urls(self) -> dict[str, str]:
        return {name: p.url for name, p in self.processes.items()}

    def start(self, on_ready: Callable[[ServiceProcess], None] | None = None) -> LocalServices:
        missing = missing_services(self.processes)
        if missing:
            raise ServiceStartError(
                f"service distributions not installed in {sys.prefix}: {', '.join(missing)}; "
                "run `bash scripts/setup.sh` (or `pip install -e services/<name>`) first"
            )
        busy = [f"{p.name} ({p.port})" for p in self.processes.values() if not port_is_free(self.host, p.port)]
        if busy:
            raise ServiceStartError(
                f"port(s) in use: {', '.join(busy)}; stop what runs there or choose other ports (--port-base)"
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            for process in self.processes.values():
                argv = [
                    sys.executable,
                    "-m",
                    "bentoml",
                    "serve",
                    process.target,
                    "--host",
                    self.host,
                    "--port",
                    str(process.port),
                ]
                process.proc = subprocess.Popen(
                    argv,
                    env=self.environment(process.name),
                    cwd=self.run_dir,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # own process group: stop() reaches BentoML's workers too
                )
                copy_rotating(process.proc.stdout, process.log_path)
                process.started_at = time.monotonic()
            self._write_manifest()
            self.wait_ready(on_ready)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, on_ready: Callable[[ServiceProcess], None] | None = None) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        waiting = dict(self.processes)
        with httpx.Client(timeout=2.0) as http:
            while waiting:
                for name, process in list(waiting.items()):
                    assert process.proc is not None
                    if process.proc.poll() is not None:
                        raise ServiceStartError(
                            f"the {name} exited with code {process.proc.returncode} while starting; "
                            f"log {process.log_path}:\n{process.log_tail()}"
                        )
                    try:
                        ok = http.get(process.url + "/readyz").status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    if ok:
                        process.ready_after_s = time.monotonic() - process.started_at
                        del waiting[name]
                        if on_ready:
                            on_ready(process)
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(waiting)
                    raise ServiceStartError(f"not ready within {self.startup_timeout_s:.0f}s: {names}; logs in {self.run_dir}")
                if waiting:
                    time.sleep(0.3)

    def alive(self) -> dict[str, bool]:
        return {name: p.proc is not None and p.proc.poll() is None for name, p in self.processes.items()}

    def stop(self, grace_s: float = 15.0) -> None:
        running = [p for p in self.processes.values() if p.proc is not None and p.proc.poll() is None]
        for process in running:
            _signal_group(process.proc, signal.SIGTERM)  # type: ignore[arg-type]
        deadline = time.monotonic() + grace_s
        for process in running:
            assert process.proc is not None
            try:
                process.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in self.processes.values():
            if process.proc is None:
                continue
            # The group may outlive its leader (a worker still exiting): make sure all of it is gone.
            _signal_group(process.proc, signal.SIGKILL)
            try:
                process.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def _write_manifest(self) -> None:
        manifest = {
            name: {"url": p.url, "pid": p.proc.pid if p.proc else None, "log": str(p.log_path), "target": p.target}
            for name, p in self.processes.items()
        }
        atomic_write_text(self.run_dir / "services.json", json.dumps(manifest, indent=2) + "\n")  # readers never see half

    def __enter__(self) -> LocalServices:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
