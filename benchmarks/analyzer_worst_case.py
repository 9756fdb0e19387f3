"""Classical analyzer on designs that differ almost everywhere: how long does grouping take?

    python benchmarks/analyzer_worst_case.py [--size 768x1024] [--repeats 3]

A generated design far from its original (another garment, heavy noise, a new all-over print) turns
most pixels into changed pixels and the grouping step into thousands of pieces. Each case is run
through the analyzer's serving code; the response's own stage timings are printed, with the
grouping stage ("regions") as a ratio of the per-pixel measurement stage ("measure") of the same
call: the baseline the grouping should stay within a small multiple of.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from PIL import Image

from fashionedit.contracts import AnalyzeRequest, ImagePayload
from fashionedit.services.analyzer.serving import AnalyzerServing
from fashionedit.services.analyzer.settings import AnalyzerSettings


def cases(width: int, height: int, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    grey = np.full((height, width, 3), 128, np.int64)
    light = np.full((height, width, 3), 200, np.int64)
    grid = light.copy()
    for y in range(0, height, 16):
        for x in range(0, width, 16):
            if rng.random() < 0.7:
                grid[y : y + 6, x : x + 6] = (int(rng.integers(0, 255)), 40, 40)
    return {
        "uniform noise vs uniform noise": (rng.integers(0, 255, (height, width, 3)), rng.integers(0, 255, (height, width, 3))),
        "grey speckle vs grey speckle (±20)": (
            grey + rng.integers(-20, 20, grey.shape),
            grey + rng.integers(-20, 20, grey.shape),
        ),
        "1 % dark dots added": (light, np.where(rng.random((height, width, 1)) < 0.01, 0, 200).repeat(3, 2)),
        "grid of 6-px squares recoloured": (light, grid),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="768x1024", help="WIDTHxHEIGHT")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    serving = AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[]))
    print(f"{'case':38s} {'total ms':>9s} {'measure ms':>11s} {'regions ms':>11s} {'regions/measure':>16s} found")
    for name, (original, generated) in cases(width, height).items():
        request = AnalyzeRequest(
            original=ImagePayload.from_pil(Image.fromarray(original.astype(np.uint8))),
            generated=ImagePayload.from_pil(Image.fromarray(generated.astype(np.uint8))),
            k=3,
            include_crops=False,
        )
        runs = [serving.analyze(request) for _ in range(args.repeats)]
        total = statistics.median(r.timings.total_ms for r in runs)
        measure = statistics.median(r.timings.stages.get("measure", 0.0) for r in runs)
        regions = statistics.median(r.timings.stages.get("regions", 0.0) for r in runs)
        print(
            f"{name:38s} {total:9.0f} {measure:11.0f} {regions:11.0f} {regions / max(measure, 1e-6):16.2f} "
            f"{len(runs[0].differences)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
