"""Shared pytest fixtures. Import them into a test package's conftest.py:

    from tests.support.fixtures import openai_server, openai_fake  # noqa: F401

``openai_server`` (session): one OpenAI-protocol server process for the whole test run, shared even
when several conftest files import the fixture. ``openai_fake`` (function): the same server, with
scripted replies, request log and latency reset before the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.openai_server import OpenAIProtocolServer
from tests.support.servers import SharedServer

_shared = SharedServer(lambda: OpenAIProtocolServer().start())


@pytest.fixture(scope="session")
def openai_server() -> Iterator[OpenAIProtocolServer]:
    """The local OpenAI-protocol server (API key required: ``server.api_key``)."""
    with _shared.use() as server:
        yield server


@pytest.fixture
def openai_fake(openai_server: OpenAIProtocolServer) -> Iterator[OpenAIProtocolServer]:
    """``openai_server`` with a clean script, log and zero latency for this test."""
    openai_server.reset()
    openai_server.configure(latency_s=0.0)
    yield openai_server
    openai_server.reset()
