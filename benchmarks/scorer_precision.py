"""CLIP precision: how far float16/bfloat16 move the scorer's cosines and CLIP* from float32, in the same run.

The published evaluation runs CLIP in float32 (the scorer's default); lower precision is an opt-in
(``FASHIONEDIT_SCORER_DTYPE``). This script scores the same pairs through the scorer's own embedder in each dtype and
prints, against float32: the largest and mean |delta cosine|, CLIP* at the threshold, and how many pairs change side.

With real weights (GPU)::

    python benchmarks/scorer_precision.py --device cuda --model ViT-L-14 --weights openai --dtypes float16 bfloat16 \\
        --images <folder of generated/original pairs: NAME.gen.png + NAME.ref.png>

Without weights it builds a random ViT-B-32 (or ``--spec``) and uses synthetic pairs. That is a **machinery check
only**: a random network's cosines are not CLIP scores and their spread says nothing about where real pairs fall
around 0.90, so ``--threshold median`` puts the threshold at the float32 median to have pairs next to it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def synthetic_pairs(n: int, size: int) -> list[tuple[Image.Image, Image.Image]]:
    """Garment-like pictures and a lightly edited copy of each (a shape moved, a colour changed)."""
    pairs = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        base = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(200, 256, 3)))
        draw = ImageDraw.Draw(base)
        for _ in range(6):
            x0, y0 = (int(v) for v in rng.integers(0, size * 3 // 4, 2))
            draw.rectangle(
                (x0, y0, x0 + int(rng.integers(8, size // 3)), y0 + int(rng.integers(8, size // 3))),
                fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
            )
        edited = base.copy()
        x0, y0 = (int(v) for v in rng.integers(0, size // 2, 2))
        ImageDraw.Draw(edited).ellipse(
            (x0, y0, x0 + size // 4, y0 + size // 5), fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
        pairs.append((edited, base))
    return pairs


def folder_pairs(folder: Path) -> list[tuple[Image.Image, Image.Image]]:
    out = []
    for gen in sorted(folder.glob("*.gen.png")):
        ref = gen.with_name(gen.name.replace(".gen.png", ".ref.png"))
        if ref.is_file():
            out.append((Image.open(gen).convert("RGB"), Image.open(ref).convert("RGB")))
    if not out:
        raise SystemExit(f"no NAME.gen.png + NAME.ref.png pairs in {folder}")
    return out


def cosines(settings_kwargs: dict, dtype: str, pairs) -> np.ndarray:
    from fashionedit.services.scorer.backends import EmbedderUnavailable, load_embedder
    from fashionedit.services.scorer.settings import ScorerSettings

    embedder = load_embedder(ScorerSettings(**settings_kwargs, dtype=dtype))
    if isinstance(embedder, EmbedderUnavailable):
        raise SystemExit(f"CLIP unavailable: {embedder.reason}")
    batch = np.stack([embedder.geometry(img) for pair in pairs for img in pair])
    embeddings, _ = embedder.embed(batch)
    embedder.close()
    return np.einsum("ij,ij->i", embeddings[0::2].astype(np.float64), embeddings[1::2].astype(np.float64))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", default=None, help="open_clip model name with real weights (--weights); unset: random weights")
    parser.add_argument("--weights", default="openai")
    parser.add_argument("--spec", default="ViT-B-32", help="tinymodels spec for the random-weight machinery check")
    parser.add_argument("--dtypes", nargs="+", default=["bfloat16"])
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--images", type=Path, default=None)
    parser.add_argument("--threshold", default="0.90", help="CLIP* threshold, or 'median' (of the float32 cosines)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    pairs = folder_pairs(args.images) if args.images else synthetic_pairs(args.pairs, args.size)
    random_weights = args.model is None
    with tempfile.TemporaryDirectory() as tmp:
        if random_weights:
            from fashionedit.tinymodels import save_open_clip_local_dir

            folder = save_open_clip_local_dir(Path(tmp) / "clip", args.spec, seed=0)
            settings = {
                "clip_model": f"local-dir:{folder}",
                "allow_random_weights": True,
                "device": args.device,
                "hash_weights": False,
            }
        else:
            settings = {"clip_model": args.model, "clip_weights": args.weights, "device": args.device}
        reference = cosines(settings, "float32", pairs)
        threshold = float(np.median(reference)) if args.threshold == "median" else float(args.threshold)
        result = {
            "label": ("MACHINERY CHECK, random weights: not CLIP scores" if random_weights else f"{args.model}:{args.weights}"),
            "device": args.device,
            "pairs": len(pairs),
            "threshold": threshold,
            "float32": {"clip_star": 100.0 * float(np.mean(reference > threshold)), "clip": 100.0 * float(reference.mean())},
        }
        for dtype in args.dtypes:
            values = cosines(settings, dtype, pairs)
            delta = np.abs(values - reference)
            flips = int(np.sum((values > threshold) != (reference > threshold)))
            result[dtype] = {
                "max_abs_delta_cosine": float(delta.max()),
                "mean_abs_delta_cosine": float(delta.mean()),
                "clip_star": 100.0 * float(np.mean(values > threshold)),
                "clip": 100.0 * float(values.mean()),
                "pairs_changing_side": flips,
                "pairs_within_max_delta_of_threshold": int(np.sum(np.abs(reference - threshold) <= delta.max())),
            }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
