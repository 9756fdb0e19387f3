"""Classical analyzer on synthetic flats: does it find each planted difference, and name the planted colour?

    python benchmarks/analyzer_classical_eval.py --n 100 --seed 0 [--size 750x1101] [--k 3]

Writes ``fashionedit.flats`` synthetic data (originals as JPEG, drafts with 1-3 planted differences as
PNG, ``ground_truth.jsonl`` with each difference's boxes) to a temporary folder, runs the ``classical``
backend through the analyzer's serving code on every (original, draft) pair and matches predictions to
planted differences one-to-one by IoU (greedy, highest first). A planted difference is found when its
match has IoU >= --iou (0.5) with its ``box_2d``: the tight box of the pixels that difference alone
changes. Reported:

* recall = found planted differences / planted differences, overall and per kind;
* precision = predictions matched to a planted difference / predictions, at the paper's fixed k (3)
  and with k = the number planted in each sample (an oracle k, to separate ranking from box quality);
* recall by the number planted per sample (1-3): planted differences often overlap in one draft;
* recall against ``part_box_2d`` (the extent of the garment parts the change can touch: the whole shirt
  for a graphic print), a stricter reading for changes smaller than their part;
* colour naming: for found colour differences, whether the description names the original's colour
  ("The sleeves are <colour> (on both sleeves; ...)").

The data are procedural flats (offline): these figures measure the machinery on known ground truth,
not the paper's model on DeepFashion-MultiModal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from fashionedit.contracts import AnalyzeRequest, Box2D, ImagePayload
from fashionedit.contracts.garment import ColorName
from fashionedit.services.analyzer.colours import display
from fashionedit.services.analyzer.serving import AnalyzerServing
from fashionedit.services.analyzer.settings import AnalyzerSettings

ORIGINAL_COLOUR = re.compile(r"^The [a-z ]+? (?:is|are) (?P<colour>[a-z ]+?) \(")


def match(truth: list[Box2D], predicted: list[Box2D], threshold: float) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching by IoU, highest first; pairs (truth index, predicted index, iou) over threshold."""
    pairs = sorted(((t.iou(p), i, j) for i, t in enumerate(truth) for j, p in enumerate(predicted)), reverse=True)
    used_t: set[int] = set()
    used_p: set[int] = set()
    out = []
    for iou, i, j in pairs:
        if iou < threshold or i in used_t or j in used_p:
            continue
        used_t.add(i)
        used_p.add(j)
        out.append((i, j, iou))
    return out


def names_colour(description: str, colour: str) -> bool:
    """The description names ``colour`` as the original's: alone, or first of a pair (a print on it: "olive and pink")."""
    found = ORIGINAL_COLOUR.search(description)
    name = display(ColorName(colour))
    return found is not None and (found.group("colour") == name or found.group("colour").startswith(name + " and "))


def evaluate(data: Path, *, k: int, iou: float, work_side: int) -> dict:
    serving = AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[], classical_work_side=work_side))
    planted_by_kind: dict[str, int] = defaultdict(int)
    found_by_kind: dict[str, int] = defaultdict(int)
    single_planted: dict[str, int] = defaultdict(int)
    single_found: dict[str, int] = defaultdict(int)
    planted_by_count: dict[int, int] = defaultdict(int)
    found_by_count: dict[int, int] = defaultdict(int)
    totals = {"planted": 0, "found": 0, "found_part_box": 0, "predicted_k": 0, "matched_k": 0, "predicted_oracle": 0, "matched_oracle": 0}
    colour = {"found": 0, "named": 0}
    ious: list[float] = []
    misses: list[dict] = []
    seconds: list[float] = []
    for line in (data / "ground_truth.jsonl").read_text().splitlines():
        sample = json.loads(line)
        planted = sample["differences"]
        truth = [Box2D(d["box_2d"]) for d in planted]
        original = ImagePayload.from_path(data / sample["image"])
        draft = ImagePayload.from_path(data / sample["draft"])
        for kk, prefix in ((k, "k"), (max(1, len(planted)), "oracle")):
            start = time.perf_counter()
            response = serving.analyze(AnalyzeRequest(original=original, generated=draft, k=kk, include_crops=False))
            if prefix == "k":
                seconds.append(time.perf_counter() - start)
            predicted = [d.box_2d for d in response.differences]
            pairs = match(truth, predicted, iou)
            totals[f"predicted_{prefix}"] += len(predicted)
            totals[f"matched_{prefix}"] += len(pairs)
            if prefix != "k":
                continue
            totals["planted"] += len(planted)
            totals["found"] += len(pairs)
            part_boxes = [Box2D(d.get("part_box_2d", d["box_2d"])) for d in planted]
            totals["found_part_box"] += len(match(part_boxes, predicted, iou))
            planted_by_count[len(planted)] += len(planted)
            found_by_count[len(planted)] += len(pairs)
            matched = {i: j for i, j, _ in pairs}
            for i, difference in enumerate(planted):
                planted_by_kind[difference["kind"]] += 1
                if len(planted) == 1:
                    single_planted[difference["kind"]] += 1
                    single_found[difference["kind"]] += i in matched
                if i in matched:
                    found_by_kind[difference["kind"]] += 1
                    ious.append(truth[i].iou(predicted[matched[i]]))
                    if difference["kind"] == "color":
                        colour["found"] += 1
                        named = names_colour(response.differences[matched[i]].description, difference["original_value"])
                        colour["named"] += named
                        if not named:
                            misses.append({"id": sample["id"], "kind": "colour name", "planted": difference["original_value"],
                                           "description": response.differences[matched[i]].description})
                else:
                    best = max((truth[i].iou(p) for p in predicted), default=0.0)
                    misses.append({"id": sample["id"], "kind": difference["kind"], "field": difference["field"], "best_iou": round(best, 3)})
    seconds.sort()
    return {
        "samples": len(seconds),
        "planted": totals["planted"],
        "recall": totals["found"] / max(1, totals["planted"]),
        f"precision_at_k{k}": totals["matched_k"] / max(1, totals["predicted_k"]),
        "recall_part_box": totals["found_part_box"] / max(1, totals["planted"]),
        "precision_oracle_k": totals["matched_oracle"] / max(1, totals["predicted_oracle"]),
        "recall_oracle_k": totals["matched_oracle"] / max(1, totals["planted"]),
        "mean_iou_found": sum(ious) / max(1, len(ious)),
        "recall_by_kind": {kind: f"{found_by_kind[kind]}/{n}" for kind, n in sorted(planted_by_kind.items())},
        # Planted differences overlap in multi-difference drafts (a recoloured shirt also recolours the
        # pocket planted on it), which a pixel comparison cannot take apart: recall by planted count.
        "single_difference_recall_by_kind": {kind: f"{single_found[kind]}/{n}" for kind, n in sorted(single_planted.items())},
        "recall_by_planted_count": {count: f"{found_by_count[count]}/{n}" for count, n in sorted(planted_by_count.items())},
        "colour_named": f"{colour['named']}/{colour['found']}",
        "median_ms_per_pair": 1000 * seconds[len(seconds) // 2] if seconds else None,
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="750x1101", help="WIDTHxHEIGHT of the synthetic flats")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument("--work-side", type=int, default=AnalyzerSettings().classical_work_side)
    parser.add_argument("--data", type=Path, help="use this synthetic folder instead of writing a new one")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    from fashionedit.flats.synthetic import write_synthetic_dataset

    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="analyzer-eval-") as tmp:
        data = args.data
        if data is None:
            data = Path(tmp)
            start = time.perf_counter()
            write_synthetic_dataset(data, args.n, args.seed, (width, height))
            print(f"wrote {args.n} synthetic samples ({width}x{height}, seed {args.seed}) in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        result = evaluate(data, k=args.k, iou=args.iou, work_side=args.work_side)
    misses = result.pop("misses")
    print(json.dumps(result, indent=2))
    if args.show_misses:
        for miss in misses:
            print(miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
