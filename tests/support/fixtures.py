"""Shared pytest fixtures. Import them into a test package's conftest.py:

    from tests.support.fixtures import openai_server, openai_fake  # noqa: F401

``openai_server`` (session): one OpenAI-protocol server process for the whole test run, shared even
when several conftest files import the fixture. ``openai_fake`` (function): the same server, with
scripted replies, request log and latency reset before the test.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator

import pytest

from tests.support.openai_server import OpenAIProtocolServer

_lock = threading.Lock()
_shared: OpenAIProtocolServer | None = None
_users = 0


def _acquire() -> OpenAIProtocolServer:
    global _shared, _users
    with _lock:
        if _shared is None:
            _shared = OpenAIProtocolServer().start()  # type: ignore[assignment]
            atexit.register(_shared.stop)
        _users += 1
        return _shared


def _release() -> None:
    global _shared, _users
    with _lock:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIProtocolServer]:
    """The local OpenAI-protocol server (API key required: ``server.api_key``)."""
    server = _acquire()
    try:
        yield server
    finally:
        _release()


@pytest.fixture
def openai_fake(openai_server: OpenAIProtocolServer) -> Iterator[OpenAIProtocolServer]:
    """``openai_server`` with a clean script, log and zero latency for this test."""
    openai_server.reset()
    openai_server.configure(latency_s=0.0)
    yield openai_server
    openai_server.reset()
