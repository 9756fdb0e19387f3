"""Benchmark runner throughput against an LMM that answers in a fixed L seconds.

Starts the OpenAI-protocol test server (``--latency L``), the editor service with the
``openai-responses`` backend pointed at it (service and provider concurrency raised to
``--concurrency`` and above), and the scorer (offline profile: PSNR). Writes a FashionEdit-shaped
dataset of ``--items`` small samples with 3 differences each, then runs BUG(1..3) over it:

* **concurrent**: all items x 3 rounds at ``--concurrency`` (default 32); target: within 1.2x the
  ideal ``items * rounds * L / concurrency``;
* **sequential** (the published scripts' loop): concurrency 1 on the first ``--sequential-items``
  items, extrapolated per call to the full set (it says so).

Every round is scored, as in a real run. Prints the figures and the ratios, and exits non-zero
when the concurrent run misses 1.2x ideal. Run from the repo root:

    python benchmarks/runner_throughput.py --latency 2.0 --items 300 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.* (the test servers)

from PIL import Image  # noqa: E402

from fashionedit.client import ClientSettings  # noqa: E402
from fashionedit.client.benchmark import RunConfig  # noqa: E402
from fashionedit.client.benchmark.runner import BenchmarkRunner, load_records  # noqa: E402
from fashionedit.client.dataset import write_dataset  # noqa: E402
from fashionedit.contracts import DatasetDifference, DatasetManifest, DatasetSample, SelectionInfo, SplitInfo  # noqa: E402
from tests.support.openai_server.fixture import OpenAIProtocolServer  # noqa: E402
from tests.support.servers import BentoServer  # noqa: E402

BOXES = [(100.0, 100.0, 400.0, 400.0), (400.0, 500.0, 700.0, 900.0), (700.0, 200.0, 950.0, 600.0)]


def _png(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def write_bench_dataset(root: Path, items: int, side: int) -> None:
    rng = random.Random(0)
    samples = []
    for number in range(items):
        item_id = f"WOMEN-Dresses-id_{number:08d}-01_1_front"
        colour = tuple(rng.randrange(256) for _ in range(3))
        original = Image.new("RGB", (side, side), colour)
        draft = Image.new("RGB", (side, side), tuple(255 - c for c in colour))
        (root / "originals").mkdir(parents=True, exist_ok=True)
        (root / "drafts").mkdir(parents=True, exist_ok=True)
        (root / "crops").mkdir(parents=True, exist_ok=True)
        original.save(root / "originals" / f"{item_id}.png")
        draft.save(root / "drafts" / f"{item_id}.png")
        differences = []
        for index, box in enumerate(BOXES, start=1):
            crop = f"crops/{item_id}_{index}.png"
            y0, x0, y1, x1 = (int(v / 1000 * side) for v in box)
            original.crop((x0, y0, x1, y1)).save(root / crop)
            differences.append(
                DatasetDifference(
                    index=index, description=f"The dress has detail {index} in the original's colour.", box_2d=box, crop=crop
                )
            )
        samples.append(
            DatasetSample(
                id=item_id,
                split="val",
                caption="A dress.",
                original=f"originals/{item_id}.png",
                draft=f"drafts/{item_id}.png",
                differences=differences,
            )
        )
    manifest = DatasetManifest(
        source="synthetic (runner benchmark)",
        image_size=side,
        selection=SelectionInfo(method="all", candidates=items, kept=items),
        split=SplitInfo(seed=0, train=0, val=items, rule="all val (benchmark)"),
        offline=True,
        num_samples=items,
    )
    write_dataset(root, manifest, samples)


async def timed_run(
    dataset: Path, out: Path, settings: ClientSettings, concurrency: int, limit: int | None, rounds: int
) -> tuple[float, int, int]:
    config = RunConfig(
        dataset=dataset, out=out, methods=["BUG"], rounds=rounds, concurrency=concurrency, limit=limit, item_attempts=1
    )
    runner = BenchmarkRunner(config, settings)
    started = time.perf_counter()
    await runner.run()
    elapsed = time.perf_counter() - started
    records = load_records(out)
    return elapsed, sum(r.status == "ok" for r in records.values()), sum(r.status == "failed" for r in records.values())


def provider_profile(requests: list[dict], latency: float) -> dict[str, float]:
    """How busy the provider was during the concurrent run: calls in flight (mean, max) and its first-to-last span."""
    spans = [(r["received_at"], r.get("answered_at") or r["received_at"] + latency) for r in requests if "received_at" in r]
    if not spans:
        return {}
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    busy = sum(b - a for a, b in spans)
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return {
        "provider_span_s": round(end - start, 2),
        "provider_mean_in_flight": round(busy / (end - start), 1),
        "provider_max_in_flight": peak,
        "provider_mean_answer_s": round(busy / len(spans), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=2.0, help="L: seconds the provider takes per call")
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sequential-items", type=int, default=6, help="Items in the sequential baseline (extrapolated)")
    parser.add_argument("--side", type=int, default=64, help="Image side in pixels")
    parser.add_argument("--json", type=Path, help="Also write the figures here")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="runner-bench-"))
    write_bench_dataset(work / "ds", args.items, args.side)
    slots = str(max(64, 2 * args.concurrency))
    provider = OpenAIProtocolServer(latency_s=args.latency, log_path=work / "openai.log")
    with provider:
        editor_env = {
            "FASHIONEDIT_EDITOR_BACKEND": "openai-responses",
            "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": provider.base_url,
            "FASHIONEDIT_EDITOR_OPENAI_API_KEY": provider.api_key,
            "FASHIONEDIT_EDITOR_MAX_CONCURRENCY": slots,
            "FASHIONEDIT_EDITOR_OPENAI_MAX_CONCURRENCY": slots,
            "FASHIONEDIT_EDITOR_OPENAI_MAX_RETRIES": "0",
            "FASHIONEDIT_EDITOR_OPENAI_TIMEOUT_S": str(30 + 10 * args.latency),
            "OMP_NUM_THREADS": "1",
        }
        scorer_env = {
            "FASHIONEDIT_SCORER_BACKEND": "none",
            "FASHIONEDIT_SCORER_MAX_CONCURRENCY": slots,
            "OMP_NUM_THREADS": "1",
            "FASHIONEDIT_SCORER_DECODE_THREADS": "1",
            "FASHIONEDIT_SCORER_LPIPS": "off",
        }
        editor = BentoServer(
            "fashionedit.services.editor.service:Editor", env=editor_env, log_path=work / "editor.log", startup_timeout=300
        )
        scorer = BentoServer(
            "fashionedit.services.scorer.service:Scorer", env=scorer_env, log_path=work / "scorer.log", startup_timeout=300
        )
        with editor, scorer:
            settings = ClientSettings(
                editor_url=[editor.url],
                scorer_url=[scorer.url],
                generator_url=["http://127.0.0.1:9"],
                analyzer_url=["http://127.0.0.1:9"],
                max_concurrency=args.concurrency,
            )
            calls = args.items * args.rounds
            seq_elapsed, seq_ok, seq_failed = asyncio.run(
                timed_run(work / "ds", work / "sequential", settings, 1, args.sequential_items, args.rounds)
            )
            seq_calls = args.sequential_items * args.rounds
            per_call = seq_elapsed / seq_calls
            conc_elapsed, ok, failed = asyncio.run(
                timed_run(work / "ds", work / "concurrent", settings, args.concurrency, None, args.rounds)
            )
            sent = provider.requests("responses")
            provider_calls = len(sent)
            in_flight = provider_profile(sent[-calls:], args.latency)
    ideal = calls * args.latency / args.concurrency
    sequential_full = per_call * calls
    figures = {
        "machine": f"{platform.node()} ({os.cpu_count()} CPUs, {platform.machine()})",
        "latency_s": args.latency,
        "items": args.items,
        "rounds": args.rounds,
        "edit_calls": calls,
        "concurrency": args.concurrency,
        "image_side": args.side,
        "concurrent_s": round(conc_elapsed, 2),
        "concurrent_ok": ok,
        "concurrent_failed": failed,
        "ideal_s": round(ideal, 2),
        "ratio_to_ideal": round(conc_elapsed / ideal, 3),
        "target_ratio": 1.2,
        "sequential_items": args.sequential_items,
        "sequential_calls": seq_calls,
        "sequential_s": round(seq_elapsed, 2),
        "sequential_ok": seq_ok,
        "sequential_failed": seq_failed,
        "sequential_per_call_s": round(per_call, 3),
        "sequential_extrapolated_s": round(sequential_full, 1),
        "speedup_vs_sequential": round(sequential_full / conc_elapsed, 2),
        "provider_calls": provider_calls,
        **in_flight,
    }
    print(json.dumps(figures, indent=2))
    print(
        f"\n{calls} edit calls (+ {calls} score calls) at concurrency {args.concurrency}, L = {args.latency:g} s: "
        f"{conc_elapsed:.1f} s vs ideal {ideal:.1f} s -> {conc_elapsed / ideal:.3f}x ideal (target <= 1.2x)"
    )
    print(
        f"sequential (concurrency 1): {seq_calls} calls in {seq_elapsed:.1f} s = {per_call:.2f} s/call, "
        f"extrapolated to {calls} calls: {sequential_full:.0f} s -> speed-up {sequential_full / conc_elapsed:.1f}x"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if conc_elapsed / ideal <= 1.2 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
