"""``python -m tests.support.openai_server --port N [--api-key K] [--latency S]`` (run from the repo root)."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local server speaking the OpenAI HTTP protocol (tests and benchmarks only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", default=None, help="require 'Authorization: Bearer KEY' (401 otherwise)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every answer waits (asyncio sleep)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_app(api_key=args.api_key, latency_s=args.latency)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, timeout_keep_alive=30)


if __name__ == "__main__":
    main()
