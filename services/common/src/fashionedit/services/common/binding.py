"""Helpers that bind plain serving logic to BentoML with the shared error shape.

A service class stays a few lines per route::

    @bentoml.service(**service_options(settings, name="generator"))
    class Generator:
        @api(GenerateRequest, route="/v1/generate")
        def generate(self, request: GenerateRequest) -> GenerateResponse:
            return self.serving.generate(request)

    apply_policy(Generator, settings)
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import bentoml
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse

from fashionedit.contracts import ImageDecodeError

from . import bentoml_fixes, metrics
from .asgi import ServicePolicyMiddleware, current_request_id
from .deadline import Deadline, reset_deadline, set_deadline
from .errors import InvalidInput, Overloaded, ServiceError, summarize, validation_details
from .redact import install_log_scrubbing, register_secret, scrub_model
from .settings import ServiceSettings

log = logging.getLogger("fashionedit.service")

Req = t.TypeVar("Req", bound=BaseModel)


def error_response(exc: ServiceError) -> JSONResponse:
    body = exc.to_response(current_request_id()).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers())


def to_service_error(exc: Exception) -> ServiceError:
    """Map the exceptions serving code may raise to our error classes."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, ImageDecodeError):
        return InvalidInput(str(exc))
    if isinstance(exc, ValidationError):
        details = validation_details(exc.errors(include_input=False))
        return InvalidInput(f"invalid request: {summarize(details)}", details=details)
    raise exc


def api(request_model: type[Req], *, route: str, **bentoml_options: t.Any) -> t.Callable[[t.Callable[..., t.Any]], t.Any]:
    """``@bentoml.api`` whose JSON body *is* ``request_model`` (no wrapping key).

    The decorated method receives one validated ``request_model`` instance and
    may raise :class:`ServiceError`; errors become :class:`ErrorResponse`. Each call
    gets the service's time budget (:mod:`.deadline`): past it, 504 ``timeout``.
    A plain (non-async) method runs in a worker thread, never on the event loop.
    Every text field of the result is scrubbed of secrets (:mod:`.redact`).
    """

    def decorator(func: t.Callable[..., t.Any]) -> t.Any:
        output_model = t.get_type_hints(func).get("return")
        is_async = inspect.iscoroutinefunction(func)
        summary = (inspect.getdoc(func) or func.__name__.replace("_", " ")).splitlines()[0]
        API_ROUTES[route] = (request_model, output_model, summary)

        def build(fields: dict[str, t.Any]) -> Req:
            # Fields were validated by BentoML against request_model already.
            return request_model.model_construct(**fields)

        @functools.wraps(func)
        async def endpoint(self: t.Any, **fields: t.Any) -> t.Any:
            timeout_s = getattr(self, POLICY_TIMEOUT_ATTR, None)
            deadline = Deadline(timeout_s) if timeout_s else None
            token = set_deadline(deadline)
            try:
                request = build(fields)
                if is_async:
                    work = func(self, request)
                else:
                    context = contextvars.copy_context()  # the thread sees the request id and the deadline
                    work = asyncio.get_running_loop().run_in_executor(_executor(self), context.run, func, self, request)
                try:
                    result = await asyncio.wait_for(work, timeout_s) if timeout_s else await work
                except TimeoutError:
                    assert deadline is not None
                    deadline.cancel()
                    log.warning("%s stopped after its %g s budget (request id %s)", route, timeout_s, current_request_id())
                    return error_response(deadline.error())
                except asyncio.CancelledError:
                    if deadline is not None:
                        deadline.cancel()  # the caller went away: threads stop at their next check
                    raise
                return scrub_model(result)
            except (ServiceError, ImageDecodeError, ValidationError) as exc:
                error = to_service_error(exc)
                if isinstance(error, Overloaded):
                    metrics.count_overloaded(getattr(self, POLICY_NAME_ATTR, "service"), error.reason)
                return error_response(error)
            finally:
                reset_deadline(token)

        del endpoint.__wrapped__  # BentoML must see **fields, not the one-argument signature
        return bentoml.api(route=route, input_spec=request_model, output_spec=output_model, **bentoml_options)(endpoint)

    return decorator


# route -> (request model, response model, summary), for strict validation and the OpenAPI document.
API_ROUTES: dict[str, tuple[type[BaseModel], t.Any, str]] = {}

POLICY_TIMEOUT_ATTR = "_fashionedit_timeout_s"
POLICY_THREADS_ATTR = "_fashionedit_threads"
POLICY_NAME_ATTR = "_fashionedit_service_name"  # the service_name label of its metrics
_executors: dict[int, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()

# BentoML's own traffic timeout answers in its own shape, outside our middleware: it only backs ours up.
BENTOML_TIMEOUT_GRACE_S = 30.0


def _executor(service: t.Any) -> ThreadPoolExecutor:
    """One thread pool per service class for its plain methods, as wide as its admission limit."""
    key = id(type(service))
    with _executors_lock:
        if key not in _executors:
            threads = getattr(service, POLICY_THREADS_ATTR, None) or 8
            _executors[key] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fashionedit-api")
        return _executors[key]


def service_options(settings: ServiceSettings, *, name: str, **extra: t.Any) -> dict[str, t.Any]:
    """Keyword arguments for ``@bentoml.service`` from our settings."""
    traffic = {"timeout": settings.timeout_s + BENTOML_TIMEOUT_GRACE_S}
    traffic.update(extra.pop("traffic", {}))
    return {"name": name, "traffic": traffic, **extra}


def apply_policy(service: t.Any, settings: ServiceSettings, *, name: str) -> None:
    """Install request ids, optional auth, admission control, body limits, time budgets, the error envelope, log scrubbing."""
    install_log_scrubbing()
    bentoml_fixes.install()  # BentoML's per-request timeout timers held every request for timeout_s + 30 s
    token = settings.api_token.get_secret_value() if settings.api_token else None
    register_secret(token)
    inner = getattr(service, "inner", service)
    setattr(inner, POLICY_TIMEOUT_ATTR, settings.timeout_s)
    setattr(inner, POLICY_THREADS_ATTR, settings.max_concurrency + 2)
    setattr(inner, POLICY_NAME_ATTR, name)
    own_routes = {api.route for api in getattr(service, "apis", {}).values()}
    routes = {route: spec for route, spec in API_ROUTES.items() if route in own_routes}
    service.add_asgi_middleware(
        ServicePolicyMiddleware,
        max_concurrency=settings.max_concurrency,
        api_token=token,
        service=name,
        max_body_bytes=settings.max_body_bytes,
        routes=routes,
    )
