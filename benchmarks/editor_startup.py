"""Start-up of the offline editor: seconds from ``bentoml serve`` to ready, temp folders left, weights identity.

    python benchmarks/editor_startup.py [--runs 2]

Starts ``bentoml serve fashionedit.services.editor.service:Editor`` on a free loopback port, ``--runs``
times per configuration, and times launch -> ``/readyz`` 200:

* baseline, measured in the same run: ``FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3=true``, which builds a tiny
  random-weight SD3 at start-up (what the offline profile did before random weights became opt-in);
* the offline profile as configured by default (flats re-rendering and classical placement only).

For each start it also counts ``fashionedit-editor-*`` folders left in the server's TMPDIR after it
stopped, and reports the weights identity ``/v1/info`` gives (backend, model id, weights name), which must
be the same on every start of one configuration (a benchmark resume compares it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from tests.support.servers import BentoServer

TARGET = "fashionedit.services.editor.service:Editor"


def start_once(env: dict[str, str], tmp: Path) -> tuple[float, tuple, int]:
    server = BentoServer(TARGET, env={**env, "TMPDIR": str(tmp)}, startup_timeout=600)
    launched = time.perf_counter()
    server.start()
    ready = time.perf_counter() - launched
    try:
        info = httpx.post(server.url + "/v1/info", json={}, timeout=30).json()
    finally:
        server.stop()
    model = info.get("model") or {}
    identity = (
        model.get("backend"),
        model.get("model_id"),
        (model.get("weights") or {}).get("name"),
        model.get("random_weights"),
    )
    left = len(list(tmp.glob("fashionedit-editor-*")))
    return ready, identity, left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    configs = {
        "baseline: random SD3 built at start-up": {"FASHIONEDIT_EDITOR_LOCAL_RANDOM_SD3": "true"},
        "offline default": {},
    }
    print(f"{'configuration':42} {'run':>3} {'ready s':>8} {'temp dirs left':>15}  identity")
    medians = {}
    for name, env in configs.items():
        times, identities = [], set()
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="editor-startup-") as tmp:
                ready, identity, left = start_once({"FASHIONEDIT_EDITOR_BACKEND": "local", **env}, Path(tmp))
            times.append(ready)
            identities.add(identity)
            print(f"{name:42} {run + 1:>3} {ready:8.1f} {left:>15}  {identity}")
        medians[name] = statistics.median(times)
        print(f"{name:42} identity stable across starts: {len(identities) == 1}")
    base, new = medians.values()
    print(f"median ready: baseline {base:.1f} s, offline default {new:.1f} s ({base / new:.1f}x faster)")


if __name__ == "__main__":
    main()
