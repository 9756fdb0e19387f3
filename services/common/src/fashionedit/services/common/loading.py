"""Load a model once, at start-up, in the background; readiness follows the load."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import NotReady

T = TypeVar("T")
log = logging.getLogger(__name__)


class BackgroundLoader(Generic[T]):
    """Runs ``load()`` once (in a thread unless ``background=False``) and hands out the result.

    ``get()`` raises :class:`NotReady` (503) while loading and after a failed
    load, with the failure's message, so callers learn why.
    """

    def __init__(self, load: Callable[[], T], *, name: str, background: bool = True) -> None:
        self._load = load
        self._name = name
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        if background:
            threading.Thread(target=self._run, name=f"load-{name}", daemon=True).start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            log.info("loading %s", self._name)
            self._value = self._load()
            log.info("%s loaded", self._name)
        except BaseException as exc:  # noqa: BLE001 - reported through readiness and NotReady
            log.exception("loading %s failed", self._name)
            self._error = exc
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._error is None

    @property
    def error(self) -> BaseException | None:
        return self._error

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def get(self) -> T:
        if not self._done.is_set():
            raise NotReady(f"{self._name} is still loading; retry shortly", retry_after=5)
        if self._error is not None:
            raise NotReady(f"{self._name} failed to load: {self._error}")
        assert self._value is not None
        return self._value
