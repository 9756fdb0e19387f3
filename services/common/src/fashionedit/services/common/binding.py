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

import functools
import inspect
import logging
import typing as t

import bentoml
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse

from fashionedit.contracts import ImageDecodeError

from .asgi import ServicePolicyMiddleware, current_request_id
from .errors import InvalidInput, ServiceError, summarize, validation_details
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
    may raise :class:`ServiceError`; errors become :class:`ErrorResponse`.
    """

    def decorator(func: t.Callable[..., t.Any]) -> t.Any:
        output_model = t.get_type_hints(func).get("return")

        def build(fields: dict[str, t.Any]) -> Req:
            # Fields were validated by BentoML against request_model already.
            return request_model.model_construct(**fields)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def endpoint(self: t.Any, **fields: t.Any) -> t.Any:
                try:
                    return await func(self, build(fields))
                except (ServiceError, ImageDecodeError, ValidationError) as exc:
                    return error_response(to_service_error(exc))

        else:

            @functools.wraps(func)
            def endpoint(self: t.Any, **fields: t.Any) -> t.Any:
                try:
                    return func(self, build(fields))
                except (ServiceError, ImageDecodeError, ValidationError) as exc:
                    return error_response(to_service_error(exc))

        del endpoint.__wrapped__  # BentoML must see **fields, not the one-argument signature
        return bentoml.api(route=route, input_spec=request_model, output_spec=output_model, **bentoml_options)(endpoint)

    return decorator


def service_options(settings: ServiceSettings, *, name: str, **extra: t.Any) -> dict[str, t.Any]:
    """Keyword arguments for ``@bentoml.service`` from our settings."""
    traffic = {"timeout": settings.timeout_s}
    traffic.update(extra.pop("traffic", {}))
    return {"name": name, "traffic": traffic, **extra}


def apply_policy(service: t.Any, settings: ServiceSettings, *, name: str) -> None:
    """Install request ids, optional auth, admission control and the error envelope."""
    token = settings.api_token.get_secret_value() if settings.api_token else None
    service.add_asgi_middleware(
        ServicePolicyMiddleware, max_concurrency=settings.max_concurrency, api_token=token, service=name
    )
