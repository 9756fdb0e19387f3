"""Long session steps run in worker threads; the page polls their progress.

A job wraps one :class:`DesignSessions` call. While it runs, the job records which
service is being called (every service call goes through :class:`TrackedClient`), the
engine's own step label, and how long it has run. A failure keeps the service's
message (``str`` of the SDK's error), never a traceback: the session itself already
holds whatever the services returned before the failure.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..bundle import FashionEditClient
from ..design import DesignSessions
from ..session import Session, SessionStore
from ..settings import SERVICES

log = logging.getLogger("fashionedit.studio")


def error_message(exc: BaseException) -> str:
    """What went wrong, in the words of whoever refused (a service, the contracts, the session engine)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors(include_url=False))
    return str(exc) or type(exc).__name__


@dataclass
class Job:
    id: str
    kind: str
    session_id: str
    state: str = "running"  # running | done | failed
    label: str = "starting"
    service: str | None = None
    calls_total: int = 0
    calls_done: int = 0
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    service_since: float | None = None

    def elapsed_view(self) -> str:
        return f"{time.monotonic() - self.started:.0f}s so far"

    def view(self) -> dict[str, Any]:
        now = self.finished or time.monotonic()
        return {
            "id": self.id,
            "kind": self.kind,
            "session_id": self.session_id,
            "state": self.state,
            "label": self.label,
            "service": self.service,
            "service_elapsed_s": round(now - self.service_since, 1) if self.service_since and self.service else None,
            "calls_total": self.calls_total,
            "calls_done": self.calls_done,
            "elapsed_s": round(now - self.started, 1),
            "error": self.error,
        }


class JobProgress:
    """The client's Progress protocol (``common.progress``), written into a job for the page to poll."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def start(self, total: int, description: str) -> None:
        self.job.calls_total, self.job.calls_done, self.job.label = total, 0, description

    def describe(self, label: str) -> None:
        self.job.label = label

    def advance(self, n: int = 1, *, failed: bool = False) -> None:
        self.job.calls_done += n


class _TrackedService:
    """A service client whose calls note, on the job, which service is working."""

    def __init__(self, job: Job, name: str, service: Any) -> None:
        self._job, self._name, self._service = job, name, service

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._service, attr)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            self._job.service, self._job.service_since = self._name, time.monotonic()
            try:
                return value(*args, **kwargs)
            finally:
                self._job.service = None

        return call


class TrackedClient:
    """The shared :class:`FashionEditClient` seen through one job."""

    def __init__(self, client: FashionEditClient, job: Job) -> None:
        for name in SERVICES:
            setattr(self, name, _TrackedService(job, name, getattr(client, name)))


class SessionBusy(RuntimeError):
    """A step is already running on this session in this studio."""


class Jobs:
    """At most one running job per session; finished jobs are kept for the page to read (the newest 200)."""

    KEEP = 200

    def __init__(self, store: SessionStore, client: FashionEditClient, *, workers: int = 4) -> None:
        self.store, self.client = store, client
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studio-job")
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: dict[str, str] = {}  # session id -> job id

    def designs(self, job: Job | None = None) -> DesignSessions:
        if job is None:
            return DesignSessions(self.store, self.client)
        return DesignSessions(self.store, TrackedClient(self.client, job), progress=JobProgress(job))  # type: ignore[arg-type]

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def running_for(self, session_id: str) -> Job | None:
        job_id = self._running.get(session_id)
        return self._jobs.get(job_id) if job_id else None

    def check_idle(self, session_id: str) -> None:
        job = self.running_for(session_id)
        if job is not None:
            raise SessionBusy(f"session {session_id} is busy: {job.label} ({job.elapsed_view()}); wait for it to finish")

    def submit(self, kind: str, session_id: str, work: Callable[[DesignSessions], Session]) -> Job:
        with self._lock:
            self.check_idle(session_id)
            job = Job(id=secrets.token_hex(6), kind=kind, session_id=session_id)
            self._jobs[job.id] = job
            self._running[session_id] = job.id
            self._trim()
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[DesignSessions], Session]) -> None:
        try:
            work(self.designs(job))
            job.state, job.label = "done", "done"
        except Exception as exc:  # noqa: BLE001 - every failure becomes the job's message; the session keeps its state
            job.state, job.error = "failed", error_message(exc)
            log.info("job %s (%s on %s) failed: %s", job.id, job.kind, job.session_id, job.error)
        finally:
            job.finished, job.service = time.monotonic(), None
            with self._lock:
                if self._running.get(job.session_id) == job.id:
                    del self._running[job.session_id]

    def _trim(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in finished[: max(0, len(self._jobs) - self.KEEP)]:
            del self._jobs[job.id]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
