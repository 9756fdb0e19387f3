"""Per-round PSNR gains of an offline motif run: the rounds that apply a motif (words cannot carry it) vs the others.

    python benchmarks/offline_motif_rounds.py fe-demo-motifs      # the folder holding src/, dataset/ and run/

A round's gain is PSNR(round r) - PSNR(round r-1) against the original (round 0: the draft), for the round that
applies a given difference. It reads the synthetic ground truth (which difference is a motif), the dataset's val
split and the run's records; it prints the figures quoted in docs/results/offline_motifs.md.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from fashionedit.client.benchmark.runner import load_records
from fashionedit.client.dataset import load_dataset


def main(root: Path) -> int:
    records = load_records(root / "run")
    val = {s.id for s in load_dataset(root / "dataset").split("val")}
    truth = {line["id"]: line for line in map(json.loads, (root / "src/ground_truth.jsonl").read_text().splitlines())}

    def psnr(item: str, family: str, round_: int) -> float | None:
        record = records.get((item, "SD3", 0) if round_ == 0 else (item, family, round_))
        return record.scores.psnr if record is not None and record.status == "ok" and record.scores else None

    motif_round = {i: d["index"] for i in val for d in truth[i]["differences"] if d["kind"] == "motif"}
    print(f"{len(val)} val items, {len(motif_round)} with a motif")
    for family in ("Vanilla", "BUG"):
        for label, rounds in (
            ("motif", [(i, r) for i, r in motif_round.items()]),
            (
                "attribute",
                [(i, d["index"]) for i in val for d in truth[i]["differences"] if d["kind"] != "motif" and d["index"] <= 3],
            ),
        ):
            gains = [
                psnr(i, family, r) - psnr(i, family, r - 1)
                for i, r in rounds
                if psnr(i, family, r) is not None and psnr(i, family, r - 1) is not None
            ]
            missing = len(rounds) - len(gains)
            mean = f"{statistics.mean(gains):+.2f} dB" if gains else "n/a"
            print(f"{family:8s} {label:9s} rounds: {len(gains):2d} scored, {missing} failed or not run, mean gain {mean}")
    both = [i for i in sorted(val) if all(psnr(i, f, 3) is not None for f in ("Vanilla", "BUG"))]
    for family in ("Vanilla", "BUG"):
        parts = {
            "all": both,
            "with a motif": [i for i in both if i in motif_round],
            "without": [i for i in both if i not in motif_round],
        }
        print(
            f"{family:8s} round 3 on the items both finished: "
            + ", ".join(
                f"{name} {statistics.mean(psnr(i, family, 3) for i in ids):.2f} dB (n={len(ids)})"
                for name, ids in parts.items()
                if ids
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
