"""Editor gateway throughput against a provider that answers in L seconds, by provider slot count.

    python benchmarks/editor_gateway.py [--edits 24] [--latency 0.5] [--slots 1 4 8] [--size 256]

Starts the local OpenAI-protocol test server (tests/support/openai_server) with a fixed answer latency,
runs ``--edits`` BUG edits (design + one reference + box) through ``EditorServing`` with the
``openai-responses`` backend, all submitted at once, for each ``--slots`` value
(FASHIONEDIT_EDITOR_OPENAI_MAX_CONCURRENCY). The baseline, measured in the same run, is one slot: the
sequential behaviour of the published scripts. Reported: wall time, edits/s, speed-up over one slot, the
ideal speed-up min(slots, edits), and the gateway's own overhead per edit (wall time of one edit minus
the provider latency, median of 5 sequential edits).

Also times the local backend's classical placement (match + place, no SD3) at --size.

The provider is a local stand-in: these figures measure the gateway's concurrency machinery, not OpenAI.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from fashionedit.contracts import Box2D, EditRequest, ImagePayload  # noqa: E402
from fashionedit.services.editor.serving import EditorServing  # noqa: E402
from fashionedit.services.editor.settings import EditorSettings  # noqa: E402
from tests.support.openai_server import OpenAIProtocolServer  # noqa: E402


def images(size: int) -> tuple[ImagePayload, ImagePayload]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    design = np.clip(np.stack([120 + 80 * x, 90 + 60 * y, 160 - 50 * x * y], -1) + rng.normal(0, 6, (size, size, 3)), 0, 255)
    ref = rng.integers(0, 255, (size // 4, size // 4, 3))
    return ImagePayload.from_pil(Image.fromarray(design.astype(np.uint8))), ImagePayload.from_pil(
        Image.fromarray(ref.astype(np.uint8))
    )


async def run_batch(serving: EditorServing, request: EditRequest, n: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(serving.edit(request) for _ in range(n)))
    return time.perf_counter() - start


async def measure(
    settings: EditorSettings, request: EditRequest, n: int, latency: float, with_overhead: bool
) -> tuple[float, float | None]:
    """One event loop per configuration: the SDK's connections belong to the loop that opened them."""
    serving = EditorServing(settings, background=False)
    try:
        wall = await run_batch(serving, request, n)
        return wall, (await overhead(serving, request, latency)) if with_overhead else None
    finally:
        await serving.aclose()


async def overhead(serving: EditorServing, request: EditRequest, latency: float) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        await serving.edit(request)
        times.append(time.perf_counter() - start - latency)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=24)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    slots = sorted(set([1, *args.slots]))
    design, reference = images(args.size)
    request = EditRequest(
        image=design,
        instruction="Add a pocket like the reference.",
        references=[reference],
        target_box=Box2D((500, 500, 800, 800)),
    )

    print(f"provider: local OpenAI-protocol test server, latency {args.latency:g} s; {args.edits} edits of {args.size}² designs")
    print("| slots | wall s | edits/s | speed-up vs 1 slot | ideal |")
    print("|---|---|---|---|---|")
    with OpenAIProtocolServer(latency_s=args.latency) as server:
        baseline = None
        for n_slots in slots:
            settings = EditorSettings(
                backend="openai-responses",
                openai_api_key=server.api_key,
                openai_base_url=server.base_url,
                openai_max_concurrency=n_slots,
                openai_queue_timeout_s=600,
                openai_max_retries=0,
            )
            wall, extra = asyncio.run(measure(settings, request, args.edits, args.latency, n_slots == slots[-1]))
            baseline = baseline or wall
            print(
                f"| {n_slots} | {wall:.2f} | {args.edits / wall:.2f} | {baseline / wall:.2f} | {min(n_slots, args.edits):.0f} |"
            )
            if extra is not None:
                print(
                    f"round trip per edit beyond the {args.latency:g} s latency (SDK, gateway and the test server's own image "
                    f"work; median of 5): {extra * 1000:.1f} ms"
                )

    from fashionedit.services.editor import placement

    arr, ref = np.asarray(design.to_pil()), np.asarray(reference.to_pil())
    for label, fn in [
        ("find_box", lambda: placement.find_box(arr, ref)),
        ("place (feather)", lambda: placement.place_reference(arr, ref, placement.PixelBox(64, 64, 160, 160))),
        ("place (poisson)", lambda: placement.place_reference(arr, ref, placement.PixelBox(64, 64, 160, 160), seam="poisson")),
    ]:
        fn()
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        print(f"local classical {label} at {args.size}²: median {statistics.median(runs) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
