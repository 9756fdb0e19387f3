"""Write a random-weight model folder.

``python -m fashionedit.tinymodels {sd3,sd2,clip,qwen-edit,flux-kontext} OUT [--spec NAME] [--seed N]``
"""

from __future__ import annotations

import argparse

from . import save_kontext_pipeline, save_open_clip_local_dir, save_qwen_edit_pipeline, save_sd2_pipeline, save_sd3_pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fashionedit-tinymodels", description=__doc__)
    parser.add_argument("kind", choices=["sd3", "sd2", "clip", "qwen-edit", "flux-kontext"])
    parser.add_argument("out")
    parser.add_argument(
        "--spec",
        default=None,
        help="sd3-tiny | sd3-medium | sd2-tiny | clip-tiny | ViT-L-14 | ViT-B-32 | qwen-image-edit-tiny | flux-kontext-tiny",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-t5",
        dest="with_t5",
        action="store_false",
        help="SD3 only: leave out the T5 encoder (load with text_encoder_3=None, tokenizer_3=None)",
    )
    args = parser.parse_args(argv)
    if args.kind == "sd3":
        path = save_sd3_pipeline(args.out, args.spec or "sd3-tiny", seed=args.seed, with_t5=args.with_t5)
    elif args.kind == "sd2":
        path = save_sd2_pipeline(args.out, args.spec or "sd2-tiny", seed=args.seed)
    elif args.kind == "qwen-edit":
        path = save_qwen_edit_pipeline(args.out, args.spec or "qwen-image-edit-tiny", seed=args.seed)
    elif args.kind == "flux-kontext":
        path = save_kontext_pipeline(args.out, args.spec or "flux-kontext-tiny", seed=args.seed)
    else:
        path = save_open_clip_local_dir(args.out, args.spec or "clip-tiny", seed=args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
