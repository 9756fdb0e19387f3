"""Scorer throughput: the service over HTTP against the raw open_clip forward + PSNR loop, in the same run.

Random weights (never scores): the compute equals the real model's, so the timings are honest.

CPU (this box)::

    OMP_NUM_THREADS=2 python benchmarks/scorer_throughput.py --device cpu --model ViT-B-32 --pairs 64 --size 512

GPU (H100/H200): ViT-L-14 at 224^2, 1024^2 PNG inputs::

    python benchmarks/scorer_throughput.py --device cuda --model ViT-L-14 --pairs 2048 --size 1024 \\
        --request-pairs 32 --concurrency 16 --workers 4 --out runs/scorer_gpu.json

Figures printed (pairs/s; one pair = two images):

* ``raw_encoder``: the image encoder alone on ready device tensors (no decode, no resize);
* ``raw_loop``: the straightforward open_clip loop in one thread (PIL decode, open_clip preprocess,
  batched ``encode_image``, cv2.resize 256 + cv2.PSNR) -- the baseline the service is held to;
* ``service_inproc``: ``ScorerServing.score`` on validated requests (no HTTP);
* ``service_http``: the BentoML service over HTTP (JSON + base64 included), concurrent clients;
* a per-image breakdown: decode, resize (CLIP geometry + 256^2), request validation (base64), and per
  batch transfer and forward.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support.servers


def design_image(seed: int, size: int) -> Image.Image:
    """A design-like picture (flat background, garment shapes, texture) so PNGs have realistic sizes."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(200, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rng.integers(0, size * 3 // 4, 2)
        w, h = rng.integers(size // 8, size // 2, 2)
        x1, y1 = x0 + w, y0 + h
        draw.rounded_rectangle(
            (int(x0), int(y0), int(x1), int(y1)), radius=size // 32, fill=tuple(int(v) for v in rng.integers(0, 256, 3))
        )
    arr = np.asarray(img, dtype=np.int16) + rng.normal(0, 6, (size, size, 3)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return buf.getvalue()


def timeit(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def build_raw_model(args, local_dir: Path | None):
    import open_clip
    import torch

    name = f"local-dir:{local_dir}" if local_dir else args.model
    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=None)
    dtype = getattr(torch, args.dtype)  # the same precision as the service under test
    return model.visual.to(args.device, dtype).eval(), preprocess, dtype


def raw_encoder(args, visual, dtype) -> float:
    import torch

    batch = max(2, args.batch) // 2 * 2
    x = torch.randn(batch, 3, 224, 224, device=args.device, dtype=dtype)
    with torch.inference_mode():
        visual(x)
        if args.device == "cuda":
            torch.cuda.synchronize()
        reps = max(1, (2 * args.pairs) // batch)
        start = time.perf_counter()
        for _ in range(reps):
            visual(x)
        if args.device == "cuda":
            torch.cuda.synchronize()
    return reps * batch / 2 / (time.perf_counter() - start)


def raw_loop(args, visual, preprocess, dtype, blobs: list[tuple[bytes, bytes]]) -> float:
    """One thread, as a script would do it: decode, preprocess, batched forward, PSNR."""
    import cv2
    import torch

    def run(pairs: list[tuple[bytes, bytes]]) -> list[float]:
        out = []
        per_batch = max(1, args.batch // 2)
        for start in range(0, len(pairs), per_batch):
            tensors, psnrs = [], []
            for gen, ref in pairs[start : start + per_batch]:
                a = Image.open(io.BytesIO(gen)).convert("RGB")
                b = Image.open(io.BytesIO(ref)).convert("RGB")
                tensors += [preprocess(a), preprocess(b)]
                psnrs.append(cv2.PSNR(cv2.resize(np.asarray(a), (256, 256)), cv2.resize(np.asarray(b), (256, 256))))
            with torch.inference_mode():
                f = visual(torch.stack(tensors).to(args.device, dtype)).float()
                f = torch.nn.functional.normalize(f, dim=-1)
                out += (f[0::2] * f[1::2]).sum(-1).tolist()
        return out

    run(blobs[: max(1, args.batch // 2)])  # warm-up
    return len(blobs) / timeit(lambda: run(blobs), repeat=2)


def breakdown(args, embedder, blobs: list[tuple[bytes, bytes]]) -> dict[str, float]:
    from fashionedit.contracts import ImagePayload
    from fashionedit.contracts.score import ScoreRequest
    from fashionedit.services.scorer import metrics
    from fashionedit.services.scorer.preprocess import decode_rgb

    sample = [blob for pair in blobs[:16] for blob in pair]
    payloads = [ImagePayload.from_bytes(b) for b in sample]
    t_decode = timeit(lambda: [decode_rgb(p) for p in payloads]) / len(payloads)
    images = [decode_rgb(p) for p in payloads]
    t_resize = timeit(lambda: [(embedder.geometry(i), metrics.resize_for_psnr(np.asarray(i))) for i in images]) / len(images)
    body = json.dumps(
        {
            "pairs": [
                {"generated": ImagePayload.from_bytes(g).root, "reference": ImagePayload.from_bytes(r).root}
                for g, r in blobs[:16]
            ]
        }
    )
    t_validate = timeit(lambda: ScoreRequest.model_validate_json(body)) / (2 * min(16, len(blobs)))
    batch = np.stack([embedder.geometry(images[i % len(images)]) for i in range(args.batch)])
    embedder.embed(batch)
    timings = [embedder.embed(batch)[1] for _ in range(3)]
    per_image = lambda key: statistics.median(t[key] for t in timings) / args.batch  # noqa: E731
    return {
        "decode_ms_per_image": t_decode * 1000,
        "resize_ms_per_image": t_resize * 1000,
        "validate_base64_ms_per_image": t_validate * 1000,
        "transfer_ms_per_image": per_image("transfer_ms"),
        "forward_ms_per_image": per_image("forward_ms"),
        "batch_images": args.batch,
    }


def requests_for(blobs, per_request: int) -> list[bytes]:
    from fashionedit.contracts import ImagePayload

    out = []
    for start in range(0, len(blobs), per_request):
        chunk = blobs[start : start + per_request]
        out.append(
            json.dumps(
                {
                    "pairs": [
                        {"generated": ImagePayload.from_bytes(g).root, "reference": ImagePayload.from_bytes(r).root}
                        for g, r in chunk
                    ]
                }
            ).encode()
        )
    return out


def service_inproc(args, settings, blobs) -> float:
    from fashionedit.contracts.score import ScoreRequest
    from fashionedit.services.scorer.serving import ScorerServing

    serving = ScorerServing(settings, background=False)
    try:
        reqs = [ScoreRequest.model_validate_json(body) for body in requests_for(blobs, args.request_pairs)]
        serving.score(reqs[0])
        with ThreadPoolExecutor(args.concurrency) as pool:
            elapsed = timeit(lambda: list(pool.map(serving.score, reqs)), repeat=2)
        return len(blobs) / elapsed
    finally:
        serving.close()


def service_http(args, env: dict[str, str], blobs, log_dir: Path) -> float:
    import httpx

    from tests.support.servers import BentoServer

    bodies = requests_for(blobs, args.request_pairs)
    with BentoServer(
        "fashionedit.services.scorer.service:Scorer", env=env, log_path=log_dir / "scorer.log", startup_timeout=600
    ) as server:
        local = threading.local()

        def post(body: bytes) -> None:
            client = getattr(local, "client", None) or httpx.Client(timeout=600)
            local.client = client
            reply = client.post(server.url + "/v1/score", content=body, headers={"content-type": "application/json"})
            reply.raise_for_status()

        for body in bodies[: max(1, args.workers)]:
            post(body)  # warm-up
        with ThreadPoolExecutor(args.concurrency) as pool:
            elapsed = timeit(lambda: list(pool.map(post, bodies)), repeat=2)
    return len(blobs) / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--model", default="ViT-B-32", help="open_clip architecture (random weights): ViT-B-32, ViT-L-14, clip-tiny"
    )
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "float16", "bfloat16"],
        help="CLIP precision of both the service and the raw baseline (the scorer's default: float32)",
    )
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--size", type=int, default=512, help="square input side in pixels")
    parser.add_argument("--format", default="PNG", choices=["PNG", "JPEG"])
    parser.add_argument("--distinct", type=int, default=16, help="distinct images generated (reused to make --pairs)")
    parser.add_argument("--batch", type=int, default=0, help="images per forward (0: 256 cuda / 64 cpu)")
    parser.add_argument("--request-pairs", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="BentoML worker processes for the HTTP run")
    parser.add_argument("--decode-threads", type=int, default=0)
    parser.add_argument("--no-batching", action="store_true", help="also run HTTP with batching across requests off")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    args.batch = args.batch or (256 if args.device == "cuda" else 64)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    from fashionedit.services.scorer.backends import load_embedder
    from fashionedit.services.scorer.settings import ScorerSettings

    workdir = Path(tempfile.mkdtemp(prefix="scorer-bench-"))
    local_dir = None
    clip_env = {"FASHIONEDIT_SCORER_CLIP_MODEL": args.model, "FASHIONEDIT_SCORER_CLIP_WEIGHTS": "random"}
    if args.model == "clip-tiny":
        from fashionedit.tinymodels import save_open_clip_local_dir

        local_dir = save_open_clip_local_dir(workdir / "clip-tiny", "clip-tiny")
        clip_env = {"FASHIONEDIT_SCORER_CLIP_MODEL": f"local-dir:{local_dir}"}
    env = {
        **clip_env,
        "FASHIONEDIT_SCORER_ALLOW_RANDOM_WEIGHTS": "true",
        "FASHIONEDIT_SCORER_DEVICE": args.device,
        "FASHIONEDIT_SCORER_DTYPE": args.dtype,
        "FASHIONEDIT_SCORER_BATCH_SIZE": str(args.batch),
        "FASHIONEDIT_SCORER_DECODE_THREADS": str(args.decode_threads),
        "FASHIONEDIT_SCORER_WORKERS": str(args.workers),
        "FASHIONEDIT_SCORER_MAX_CONCURRENCY": str(max(8, args.concurrency * 2)),
        "FASHIONEDIT_SCORER_LPIPS": "off",
        # Same torch threading as the raw baseline in this process (set OMP_NUM_THREADS for both).
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(torch.get_num_threads())),
    }
    settings = ScorerSettings(
        **{k.removeprefix("FASHIONEDIT_SCORER_").lower(): v for k, v in env.items() if k.startswith("FASHIONEDIT_SCORER_")}
    )

    print(
        f"# scorer throughput: {args.model} (random weights) on {args.device}"
        + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else f" ({os.cpu_count()} CPUs)")
        + f", {args.pairs} pairs of {args.size}x{args.size} {args.format}, forward batch {args.batch}",
        flush=True,
    )
    distinct = [encode(design_image(i, args.size), args.format) for i in range(max(2, args.distinct))]
    blobs = [(distinct[(2 * i) % len(distinct)], distinct[(2 * i + 1) % len(distinct)]) for i in range(args.pairs)]
    print(f"  mean encoded image: {np.mean([len(b) for b in distinct]) / 1024:.0f} KiB", flush=True)

    results: dict[str, object] = {"args": {k: str(v) for k, v in vars(args).items()}}
    visual, preprocess, dtype = build_raw_model(args, local_dir)
    results["raw_encoder_pairs_s"] = raw_encoder(args, visual, dtype)
    print(f"  raw_encoder     {results['raw_encoder_pairs_s']:9.1f} pairs/s  (forward only, inputs on device)", flush=True)
    results["raw_loop_pairs_s"] = raw_loop(args, visual, preprocess, dtype, blobs)
    print(
        f"  raw_loop        {results['raw_loop_pairs_s']:9.1f} pairs/s  (decode + preprocess + forward + PSNR, one thread)",
        flush=True,
    )
    del visual
    embedder = load_embedder(settings)
    results["breakdown"] = breakdown(args, embedder, blobs)
    embedder.close()
    print(
        "  breakdown (ms per image): "
        + ", ".join(f"{k.replace('_ms_per_image', '')} {v:.2f}" for k, v in results["breakdown"].items() if k.endswith("image")),
        flush=True,
    )
    results["service_inproc_pairs_s"] = service_inproc(args, settings, blobs)
    print(
        f"  service_inproc  {results['service_inproc_pairs_s']:9.1f} pairs/s  (ScorerServing.score, {args.request_pairs} "
        f"pairs/request, {args.concurrency} callers)",
        flush=True,
    )
    if not args.skip_http:
        results["service_http_pairs_s"] = service_http(args, env, blobs, workdir)
        print(
            f"  service_http    {results['service_http_pairs_s']:9.1f} pairs/s  (bentoml serve, {args.workers} worker(s), "
            f"{args.concurrency} concurrent clients)",
            flush=True,
        )
        if args.no_batching:
            results["service_http_no_batching_pairs_s"] = service_http(
                args, {**env, "FASHIONEDIT_SCORER_BATCH_ACROSS_REQUESTS": "false"}, blobs, workdir
            )
            print(
                f"  service_http, batching across requests off: {results['service_http_no_batching_pairs_s']:9.1f} pairs/s",
                flush=True,
            )
        ratio = results["service_http_pairs_s"] / results["raw_loop_pairs_s"]
        results["http_vs_raw_loop"] = ratio
        print(
            f"  service_http / raw_loop = {ratio:.2f}x (goal >= 0.8x); service_http / raw_encoder = "
            f"{results['service_http_pairs_s'] / results['raw_encoder_pairs_s']:.2f}x",
            flush=True,
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
