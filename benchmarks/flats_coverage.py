"""How much of a caption set the offline flats parser understands.

    python benchmarks/flats_coverage.py [--captions benchmarks/data/flats_captions.json] [--show 30]

The caption set (``benchmarks/data/flats_captions.json``) holds captions written in DeepFashion-MultiModal's
caption style from its label vocabulary (shape: sleeve length, lower length, socks, hat, glasses, neckwear,
wrist wearing, ring, waist accessories, neckline, outer cardigan, navel covering; fabric; colour/pattern)
and customer phrasing. For each group it prints:

* understood-word rate: word occurrences the parser knows (as garment words, grammar words or known
  accessories), over all word occurrences;
* drawn-word share: occurrences of known accessory words, which a flat does not draw (returned as a
  warning by the generator);
* captions read without any unknown word;
* the unknown words, most frequent first (each reaches the user as a warning);
* for a group with labels (``<group>_labels``: the garment values each caption states), label accuracy: the share
  of stated values the parser reads back exactly, per field and overall.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fashionedit.flats import parse_caption
from fashionedit.flats.parser import segment

DEFAULT = Path(__file__).with_name("data") / "flats_captions.json"


def coverage(captions: list[str]) -> dict:
    words = unknown = accessory = clean = 0
    missing: Counter[str] = Counter()
    for caption in captions:
        sentences, _ = segment(caption)
        parsed = parse_caption(caption)
        unknown_here = set(parsed.unknown_words)
        for phrase in (p for sentence in sentences for p in sentence):
            n = len(phrase.words)
            words += n
            if not phrase.tags:
                unknown += n
                missing[phrase.text] += 1
            elif {t.kind for t in phrase.tags} == {"accessory"}:
                accessory += n
        clean += not unknown_here
    return {
        "captions": len(captions),
        "words": words,
        "understood_rate": 1 - unknown / max(words, 1),
        "accessory_share": accessory / max(words, 1),
        "clean_captions": clean,
        "missing": missing,
    }


def _value(attrs, field: str):
    piece, _, name = field.partition(".")
    garment = getattr(attrs, piece)
    value = getattr(garment, name, None) if garment is not None else None
    return getattr(value, "value", value)


def label_accuracy(captions: list[str], labels: list[dict]) -> tuple[float, dict[str, tuple[int, int]], list[str]]:
    per_field: dict[str, list[int]] = {}
    misses: list[str] = []
    for caption, expected in zip(captions, labels):
        attrs = parse_caption(caption).attributes
        for field, value in expected.items():
            got = _value(attrs, field)
            hit = per_field.setdefault(field, [0, 0])
            hit[0] += got == value
            hit[1] += 1
            if got != value and len(misses) < 5:
                misses.append(f"{field}: expected {value!r}, read {got!r} in {caption!r}")
    right = sum(h[0] for h in per_field.values())
    total = sum(h[1] for h in per_field.values())
    return right / max(total, 1), {k: (v[0], v[1]) for k, v in sorted(per_field.items())}, misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", type=Path, default=DEFAULT)
    parser.add_argument("--show", type=int, default=30, help="How many unknown words to list per group")
    args = parser.parse_args()
    data = json.loads(args.captions.read_text())
    groups = {name: captions for name, captions in data.items() if not name.endswith("_labels")}
    print(f"{'group':18} {'captions':>8} {'words':>6} {'understood':>10} {'accessory':>9} {'no unknown':>10}")
    results = {name: coverage(captions) for name, captions in groups.items()}
    for name, r in results.items():
        print(
            f"{name:18} {r['captions']:>8} {r['words']:>6} {r['understood_rate']:>10.1%} {r['accessory_share']:>9.1%} "
            f"{r['clean_captions']:>5}/{r['captions']:<4}"
        )
    for name in groups:
        if f"{name}_labels" in data:
            overall, per_field, misses = label_accuracy(groups[name], data[f"{name}_labels"])
            fields = ", ".join(f"{field} {right}/{total}" for field, (right, total) in per_field.items())
            print(f"label accuracy in {name}: {overall:.1%} ({fields})")
            for miss in misses:
                print(f"  miss: {miss}")
    for name, r in results.items():
        shown = ", ".join(f"{w} ({c})" for w, c in r["missing"].most_common(args.show)) or "none"
        print(f"unknown in {name}: {shown}")


if __name__ == "__main__":
    main()
