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
  ("The sleeves are <colour> (on both sleeves; ...)");
* colour words measured: for every description, whether the colour it names is the colour measured here,
  independently, at full size on the pixels the sentence is about (``measured_colour``): its reference is
  within ``NAME_DELTA_E`` (+3 for the backend's working size) of it;
* crops under the readable size (``geometry.crop_window``'s minimum): should be 0.

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

import numpy as np
from scipy.ndimage import binary_fill_holes
from skimage.color import deltaE_ciede2000

from fashionedit.contracts import AnalyzeRequest, Box2D, ImagePayload
from fashionedit.contracts.boxes import PixelBox
from fashionedit.contracts.garment import ColorName
from fashionedit.services.analyzer import colours, geometry
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


NAMES = {display(c): c for c in ColorName}
COLOUR_WORDS = re.compile("|".join(re.escape(n) for n in sorted(NAMES, key=len, reverse=True)))
# Two colours named together ("white and charcoal", "purple (the nearest named colour, ΔE 20) and lavender").
COLOUR_PAIR = re.compile(rf"(?:{COLOUR_WORDS.pattern})(?: \([^)]*\))? and (?:{COLOUR_WORDS.pattern})")
WORKING_SIZE_SLACK = 3.0  # ΔE: the backend measures at its working size, this at full size


def named_colours(description: str) -> list[ColorName]:
    return [NAMES[word] for word in COLOUR_WORDS.findall(description)]


def measured_colour(description: str, original: np.ndarray, draft: np.ndarray, box: PixelBox) -> np.ndarray | None:
    """The colour of what a description names, measured at full size (CIELAB): the garment in the box (pixels
    unlike the background, holes filled) for "the original's <colour> garment/fabric"; otherwise the clearly
    changed pixels (CIE76 > 25, not JPEG ringing) of the garment in the image described (the design for "the
    design adds"). None when too few pixels."""
    lab_o = colours.to_lab(original[box.y0 : box.y1, box.x0 : box.x1])
    lab_d = colours.to_lab(draft[box.y0 : box.y1, box.x0 : box.x1])
    paper = colours.to_lab(original[:1, :1])[0, 0]
    lab = lab_d if "design adds" in description else lab_o
    garment = binary_fill_holes(np.linalg.norm(lab - paper, axis=-1) > 8)
    if "garment has" in description or "fabric has" in description:
        pixels = lab[garment]
    else:
        pixels = lab[garment & (np.linalg.norm(lab_o - lab_d, axis=-1) > 25)]
    return colours.dominant_colour(pixels)[0] if len(pixels) >= 20 else None


def names_measured_colour(description: str, measured: np.ndarray) -> bool:
    """The first colour named (either of a pair: "white and charcoal") is within naming distance of ``measured``."""
    words = named_colours(description)
    pair = COLOUR_PAIR.search(description) is not None
    references = [colours.REFERENCE_LAB[list(colours.REFERENCE_RGB).index(w)] for w in words[: 2 if pair else 1]]
    gaps = [float(deltaE_ciede2000(np.asarray(measured, np.float64)[None], ref[None])[0]) for ref in references]
    return bool(gaps) and min(gaps) <= colours.NAME_DELTA_E + WORKING_SIZE_SLACK


def evaluate(data: Path, *, k: int, iou: float, work_side: int) -> dict:
    serving = AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[], classical_work_side=work_side))
    planted_by_kind: dict[str, int] = defaultdict(int)
    found_by_kind: dict[str, int] = defaultdict(int)
    single_planted: dict[str, int] = defaultdict(int)
    single_found: dict[str, int] = defaultdict(int)
    planted_by_count: dict[int, int] = defaultdict(int)
    found_by_count: dict[int, int] = defaultdict(int)
    totals = {
        "planted": 0,
        "found": 0,
        "found_part_box": 0,
        "predicted_k": 0,
        "matched_k": 0,
        "predicted_oracle": 0,
        "matched_oracle": 0,
    }
    colour = {"found": 0, "named": 0}
    words = {"checked": 0, "measured": 0, "small_crops": 0, "crops": 0}
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
                check_words(response.differences, original, draft, words, misses, sample["id"])
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
                            misses.append(
                                {
                                    "id": sample["id"],
                                    "kind": "colour name",
                                    "planted": difference["original_value"],
                                    "description": response.differences[matched[i]].description,
                                }
                            )
                else:
                    best = max((truth[i].iou(p) for p in predicted), default=0.0)
                    misses.append(
                        {"id": sample["id"], "kind": difference["kind"], "field": difference["field"], "best_iou": round(best, 3)}
                    )
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
        "colour_words_measured": f"{words['measured']}/{words['checked']}",
        "crops_under_readable_size": f"{words['small_crops']}/{words['crops']}",
        "median_ms_per_pair": 1000 * seconds[len(seconds) // 2] if seconds else None,
        "misses": misses,
    }


def check_words(differences, original: ImagePayload, draft: ImagePayload, words: dict, misses: list, sample_id: str) -> None:
    """Count descriptions whose colour is the measured one, and crop windows under the readable size."""
    rgb_o = np.asarray(original.to_pil().convert("RGB"))
    rgb_d = np.asarray(draft.to_pil().convert("RGB").resize(original.to_pil().size))
    height, width = rgb_o.shape[:2]
    minimum = max(geometry.MIN_CROP_SIDE, round(geometry.MIN_CROP_SHARE * min(width, height)))
    for difference in differences:
        window = geometry.crop_window(difference.box_2d, width, height)
        words["crops"] += 1
        words["small_crops"] += window.width < min(minimum, width) or window.height < min(minimum, height)
        measured = measured_colour(difference.description, rgb_o, rgb_d, difference.box_2d.to_pixels(width, height))
        if measured is None or not named_colours(difference.description):
            continue
        words["checked"] += 1
        if names_measured_colour(difference.description, measured):
            words["measured"] += 1
        else:
            misses.append(
                {
                    "id": sample_id,
                    "kind": "colour words",
                    "measured": colours.name_lab(measured)[0].value,
                    "description": difference.description,
                }
            )


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
            print(
                f"wrote {args.n} synthetic samples ({width}x{height}, seed {args.seed}) in {time.perf_counter() - start:.1f} s",
                file=sys.stderr,
            )
        result = evaluate(data, k=args.k, iou=args.iou, work_side=args.work_side)
    misses = result.pop("misses")
    print(json.dumps(result, indent=2))
    if args.show_misses:
        for miss in misses:
            print(miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
