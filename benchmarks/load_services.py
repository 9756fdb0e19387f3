"""Load each service over real ``bentoml serve`` with many concurrent clients; print what callers saw.

For every service (offline profile: generator ``flats``, analyzer ``classical``, scorer PSNR;
the editor as its OpenAI gateway against the repo's local OpenAI-protocol test server, since the
offline ``local`` editor needs SD3 weights), ``--runs`` runs of ``--duration`` seconds each with
``--clients`` concurrent clients, each posting small valid requests back to back. Per run: status
counts, connection errors by type, latency percentiles, and the server's RSS (all its processes)
before and after. The hardening target: only 200 and 503 ``overloaded``, no connection errors, and
no RSS growth between the last two runs.

    .venv/bin/python benchmarks/load_services.py --duration 60 --clients 64 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402

from tests.support.openai_server import OpenAIProtocolServer  # noqa: E402
from tests.support.servers import BentoServer  # noqa: E402


def png_b64(size: tuple[int, int], colour: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


A, B = png_b64((128, 128), (180, 40, 40)), png_b64((128, 128), (40, 40, 180))

SERVICES = {
    "generator": (
        "fashionedit.services.generator.service:Generator",
        "/v1/generate",
        {"prompt": "a red coat", "width": 256, "height": 256},
    ),
    "editor": ("fashionedit.services.editor.service:Editor", "/v1/edit", {"image": A, "instruction": "make it blue"}),
    "analyzer": ("fashionedit.services.analyzer.service:Analyzer", "/v1/analyze", {"original": A, "generated": B}),
    "scorer": (
        "fashionedit.services.scorer.service:Scorer",
        "/v1/score",
        {"pairs": [{"generated": A, "reference": B}] * 4, "metrics": ["psnr"]},
    ),
}


def rss_mb(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


async def load(url: str, route: str, body: dict, clients: int, duration: float) -> tuple[Counter, list[float]]:
    outcomes: Counter = Counter()
    latencies: list[float] = []
    stop = time.monotonic() + duration
    # The SDK's pool settings: connections expire before the server's keep-alive closes them.
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def client() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    response = await http.post(route, json=body)
                except httpx.HTTPError as exc:
                    outcomes[f"error {type(exc).__name__}"] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000.0)
                code = response.json().get("error", {}).get("code", "") if response.status_code >= 400 else ""
                outcomes[f"{response.status_code} {code}".strip()] += 1
                if response.status_code == 503:
                    await asyncio.sleep(0.05)  # a polite client backs off a little

        await asyncio.gather(*(client() for _ in range(clients)))
    return outcomes, latencies


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--services", nargs="*", default=list(SERVICES))
    args = parser.parse_args()

    fake = OpenAIProtocolServer().start() if "editor" in args.services else None
    try:
        for name in args.services:
            target, route, body = SERVICES[name]
            env = {}
            if name == "editor":
                assert fake is not None
                env = {
                    "FASHIONEDIT_EDITOR_BACKEND": "openai-images",
                    "FASHIONEDIT_EDITOR_OPENAI_API_KEY": fake.api_key,
                    "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": fake.base_url,
                }
            with BentoServer(target, env=env) as server:
                assert server.proc is not None
                print(f"\n== {name}: {args.clients} clients, {args.runs} x {args.duration:g} s ==", flush=True)
                growth: list[tuple[float, int]] = []
                for run in range(1, args.runs + 1):
                    before = rss_mb(server.proc.pid)
                    outcomes, latencies = asyncio.run(load(server.url, route, body, args.clients, args.duration))
                    after = rss_mb(server.proc.pid)
                    total = sum(outcomes.values())
                    growth.append((after - before, total))
                    print(
                        f"run {run}: {total} requests ({total / args.duration:.1f}/s)  "
                        + "  ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
                        + f"\n       latency ms p50 {percentile(latencies, 0.5):.0f}  p90 {percentile(latencies, 0.9):.0f}  "
                        f"p99 {percentile(latencies, 0.99):.0f}  max {max(latencies, default=float('nan')):.0f}  "
                        f"mean {statistics.fmean(latencies) if latencies else float('nan'):.0f}"
                        f"\n       RSS MiB before {before:.0f}  after {after:.0f}  ({after - before:+.0f}, "
                        f"{(after - before) * 1024 / max(total, 1):+.2f} KiB/request)",
                        flush=True,
                    )
                    unexpected = {k: v for k, v in outcomes.items() if k not in ("200", "503 overloaded")}
                    if unexpected:
                        print(f"       UNEXPECTED: {unexpected}", flush=True)
                if len(growth) >= 2:
                    mib, total = growth[-1]
                    per_request = mib * 1024 / max(total, 1)
                    print(f"RSS growth in the last run: {mib:+.1f} MiB over {total} requests ({per_request:+.2f} KiB/request)")
    finally:
        if fake is not None:
            fake.stop()


if __name__ == "__main__":
    main()
