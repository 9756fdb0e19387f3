"""Plumbing shared by the FashionEdit BentoML services.

``errors``, ``loading``, ``timing`` and ``settings`` are plain Python; ``asgi``
and ``binding`` tie them to BentoML.
"""

from .errors import (
    InvalidInput,
    NotReady,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    ServiceError,
    Unavailable,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from .loading import BackgroundLoader
from .settings import ServiceSettings
from .timing import Stopwatch

__all__ = [
    "BackgroundLoader",
    "InvalidInput",
    "NotReady",
    "Overloaded",
    "PayloadTooLarge",
    "RequestTimeout",
    "ServiceError",
    "ServiceSettings",
    "Stopwatch",
    "Unavailable",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]
