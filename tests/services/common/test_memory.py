"""Nothing of a request outlives it: BentoML's timeout timer is cancelled, and RSS settles under load.

BentoML 1.4's ``TimeoutMiddleware`` armed a timer per request that it never cancelled; the timer held the
request's context (its OpenTelemetry span and, through it, the request) for the whole traffic timeout, which
showed as ~16 KiB of RSS per request under load (docs/benchmarks.md, "Services under load").
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import time
import weakref

import httpx
import psutil
import pytest
from bentoml._internal.server.http.traffic import TimeoutMiddleware

from fashionedit.services.common import bentoml_fixes
from tests.support.servers import REPO_ROOT, BentoServer

_held: contextvars.ContextVar[object] = contextvars.ContextVar("held")


class _RequestState:
    """Stands for what a request's context holds (its span, its scope)."""


async def _answer(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _serve(middleware, sent: list) -> None:
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message) -> None:
        sent.append(message)

    await middleware({"type": "http", "path": "/v1/info"}, receive, send)


async def _one_request(middleware, sent: list) -> weakref.ref:
    async def request() -> weakref.ref:
        state = _RequestState()
        _held.set(state)  # as the OpenTelemetry middleware sets the span, outside BentoML's timeout
        await _serve(middleware, sent)
        return weakref.ref(state)

    return await asyncio.create_task(request())  # a task of its own, as uvicorn runs each request


async def test_a_request_is_released_once_answered() -> None:
    assert bentoml_fixes.install() and bentoml_fixes.install()  # installs, idempotently
    middleware = TimeoutMiddleware(_answer, timeout=300.0)
    sent: list = []
    refs = [await _one_request(middleware, sent) for _ in range(20)]
    await asyncio.sleep(0)  # one turn of the loop, which drops cancelled timers from its queue
    gc.collect()
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200] * 20
    alive = sum(ref() is not None for ref in refs)
    assert alive == 0, f"{alive} of 20 answered requests are still held (by the timeout's timer)"


async def test_the_timeout_still_answers_504_and_stops_the_work() -> None:
    bentoml_fixes.install()
    stopped = asyncio.Event()

    async def slow(scope, receive, send) -> None:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()

    sent: list = []
    await _serve(TimeoutMiddleware(slow, timeout=0.2), sent)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 504
    assert "0.2 seconds" in json.loads(sent[1]["body"])["error"]
    await asyncio.wait_for(stopped.wait(), 2)


# -- over a real server ---------------------------------------------------------------------------------------


def _worker_rss_mib(server: BentoServer) -> float:
    assert server.proc is not None
    total = 0
    for proc in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


async def _batch(url: str, requests: int, clients: int = 16) -> int:
    body = {"prompt": "a coat", "width": 64, "height": 64}
    served = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def client(n: int) -> None:
            nonlocal served
            for _ in range(n):
                response = await http.post("/v1/generate", json=body)
                assert response.status_code in (200, 503), response.text
                served += 1

        await asyncio.gather(*(client(requests // clients) for _ in range(clients)))
    return served


@pytest.mark.integration
@pytest.mark.slow
def test_rss_settles_under_load(tmp_path) -> None:
    """Three batches of 2,400 requests: the third grows the workers' RSS by no more than noise.

    With BentoML's timers left running, each batch grew this probe's worker by ~4.7 KiB per request (11 MiB);
    fixed, the third batch adds 0.1 KiB per request (0.2-0.3 MiB) on the 2-core dev box. The bound sits between.
    """
    env = {"PYTHONPATH": str(REPO_ROOT), "FASHIONEDIT_MAX_CONCURRENCY": "32"}
    with BentoServer("tests.services.common.probe_service:Probe", env=env, log_path=tmp_path / "probe.log") as server:
        rss = [_worker_rss_mib(server)]
        counts = []
        for _ in range(3):
            started = time.monotonic()
            counts.append(asyncio.run(_batch(server.url, 2400)))
            rss.append(_worker_rss_mib(server))
            assert time.monotonic() - started < 40, "the batch took too long for this check to mean anything"
    growth_kib_per_request = (rss[3] - rss[2]) * 1024 / counts[2]
    assert growth_kib_per_request < 2.0, f"RSS MiB by batch {[round(r, 1) for r in rss]}: still growing"
