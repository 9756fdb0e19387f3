"""What the services' Prometheus metrics cost: per recording, and against one small request over HTTP.

    python benchmarks/metrics_overhead.py [--ops 50000] [--requests 200]

1. In a child process set up as a BentoML worker is (``PROMETHEUS_MULTIPROC_DIR`` set before prometheus_client is
   imported, so every value is written to an mmap'd file), each recorder of ``fashionedit.services.common.metrics``
   is called ``--ops`` times; the baseline, measured in the same run, is a plain Python function call with the same
   arguments.
2. The plumbing's probe service under real ``bentoml serve``: the median latency of ``--requests`` sequential
   64x64 generate calls (each records the in-flight gauge twice) and of ``GET /metrics``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, sys, time
from fashionedit.services.common import metrics

ops = int(sys.argv[1])

def noop(service, value):
    return None

def per_op_us(fn, *args):
    fn(*args)  # create the metric and its series first
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(ops):
            fn(*args)
        best = min(best, (time.perf_counter() - start) / ops * 1e6)
    return best

import prometheus_client.values as values
result = {
    "multiprocess": values.ValueClass is not values.MutexValue,
    "baseline (plain call)": per_op_us(noop, "bench", 3),
    "set_in_flight": per_op_us(metrics.set_in_flight, "bench", 3),
    "count_overloaded": per_op_us(metrics.count_overloaded, "bench", metrics.ADMISSION),
    "set_queue_depth": per_op_us(metrics.set_queue_depth, "bench", 5),
    "observe_batch": per_op_us(metrics.observe_batch, "bench", 4),
    "count_rejected": per_op_us(metrics.count_rejected, "bench", 2),
}
print(json.dumps(result))
"""


def recorders(ops: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        out = subprocess.run([sys.executable, "-c", CHILD, str(ops)], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)


def over_http(requests: int) -> dict:
    from tests.support.servers import BentoServer

    env = {"PYTHONPATH": str(REPO)}
    with BentoServer("tests.services.common.probe_service:Probe", env=env) as server, httpx.Client(base_url=server.url) as client:
        body = {"prompt": "a coat", "width": 64, "height": 64}
        for _ in range(10):
            client.post("/v1/generate", json=body)
        latencies, scrapes = [], []
        for _ in range(requests):
            start = time.perf_counter()
            assert client.post("/v1/generate", json=body).status_code == 200
            latencies.append((time.perf_counter() - start) * 1e3)
        for _ in range(50):
            start = time.perf_counter()
            assert client.get("/metrics").status_code == 200
            scrapes.append((time.perf_counter() - start) * 1e3)
        return {"request median ms": statistics.median(latencies), "GET /metrics median ms": statistics.median(scrapes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    result = recorders(args.ops)
    assert result.pop("multiprocess"), "prometheus_client did not start in multiprocess mode"
    baseline = result["baseline (plain call)"]
    print(f"{'recorder (multiprocess mode)':32} {'us/op':>8} {'vs plain call':>14}")
    for name, us in result.items():
        print(f"{name:32} {us:8.2f} {us / baseline:13.1f}x")
    http = over_http(args.requests)
    per_request_us = 2 * result["set_in_flight"]
    print(
        f"probe request median: {http['request median ms']:.2f} ms; its two in-flight records: {per_request_us:.1f} us "
        f"({per_request_us / 10 / http['request median ms']:.2f}% of it)"
    )
    print(f"GET /metrics median: {http['GET /metrics median ms']:.2f} ms")


if __name__ == "__main__":
    main()
