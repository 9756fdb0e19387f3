"""Fixes for BentoML's serving stack that the services install at start-up.

**The timeout timer of every request outlived the request** (the RSS growth under load). BentoML 1.4's
``TimeoutMiddleware`` arms ``loop.call_later(traffic.timeout, ...)`` for each HTTP request and never cancels
it. The pending timer holds the request's waiter future and a copy of its context (the OpenTelemetry span,
and through it the request's scope), so every request, a 503 included, stayed in memory for the whole
traffic timeout (``timeout_s`` + 30 s = 330 s by default): about 16 KiB per request, which looked like a
leak in any load run shorter than that and was hundreds of MiB at a few hundred requests per second.

:func:`install` keeps the middleware's behaviour (the same 504 once the timeout passes before the first
byte of the answer) and cancels the timer once the request is answered; a cancelled timer lets go of its
callback, and the event loop drops cancelled timers from its queue. Idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import typing as t

log = logging.getLogger("fashionedit.service")

_PATCHED = "_fashionedit_cancels_its_timer"


def install() -> bool:
    """Patch BentoML's ``TimeoutMiddleware`` to cancel its timer; False if that class is not where it was."""
    try:
        from bentoml._internal.server.http import traffic
    except ImportError:  # pragma: no cover - another BentoML layout
        log.warning("BentoML's TimeoutMiddleware was not found: its per-request timers are not cancelled")
        return False
    middleware = getattr(traffic, "TimeoutMiddleware", None)
    if middleware is None or not hasattr(middleware, "_set_timer_out"):  # pragma: no cover
        log.warning("BentoML's TimeoutMiddleware changed: its per-request timers are not cancelled")
        return False
    if getattr(middleware, _PATCHED, False):
        return True

    from starlette.responses import JSONResponse

    async def __call__(self: t.Any, scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        timer = loop.call_later(self.timeout, self._set_timer_out, waiter)

        async def _send(message: dict[str, t.Any]) -> None:
            if not waiter.done():
                waiter.set_result(None)
            await send(message)

        fut = asyncio.ensure_future(self.app(scope, receive, _send), loop=loop)
        try:
            await waiter
        except TimeoutError:
            if fut.cancel():
                response = JSONResponse({"error": f"Not able to process the request in {self.timeout} seconds"}, status_code=504)
                await response(scope, receive, send)
        else:
            await fut  # wait for the future to finish
        finally:
            timer.cancel()  # the one change: without it the timer (and the request's context) lives `timeout` seconds

    middleware.__call__ = __call__
    setattr(middleware, _PATCHED, True)
    return True
