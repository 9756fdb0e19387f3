"""A local server speaking the OpenAI HTTP protocol, for tests and benchmarks (never the product).

Run it: ``python -m tests.support.openai_server --port N [--api-key K] [--latency S]``.
In tests: ``OpenAIProtocolServer`` (a real process on a free port) or the pytest fixtures in
``tests.support.fixtures`` (``openai_server``, ``openai_fake``).
"""

from .fixture import DEFAULT_API_KEY, OpenAIProtocolServer

__all__ = ["DEFAULT_API_KEY", "OpenAIProtocolServer"]
