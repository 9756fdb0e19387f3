"""Generator benchmark: the raw diffusers pipeline against the service over HTTP, in one run.

Builds a random-weight SD3 pipeline folder (``fashionedit.tinymodels``; full-size ``sd3-medium`` costs exactly
the real model's compute, so no weights are needed), then measures, in this order:

1. raw diffusers (``AutoPipelineForText2Image.from_pretrained`` of that folder): batch 1 (s/image) and one call
   of ``--batch`` images, eager; with ``--compile`` also torch.compile'd transformer + channels_last VAE;
2. image encoding: PNG at compress levels 0/1/6, and transport of one image over loopback HTTP as base64
   JSON against binary ``image/png`` (request to decoded image);
3. the service (``bentoml serve`` of the generator, same folder, same dtype and optimisations) end to end,
   request to decoded PIL image: batch 1 sequential, then ``--concurrency`` clients at once, for each
   ``--service-batch`` setting of FASHIONEDIT_GENERATOR_MAX_BATCH_IMAGES.

Ratios are against the raw eager pipeline measured in the same run. Weights are random: these are timings,
never quality figures.

CPU check at tiny size (minutes on 2 cores)::

    python benchmarks/generator_bench.py --spec sd3-tiny --device cpu

GPU (H100/H200; see docs/benchmarks.md for the exact command and time budget)::

    python benchmarks/generator_bench.py --spec sd3-medium --device cuda --dtype bfloat16 --compile
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # tests.support.servers: the same server helper the tests use

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")

PROMPT = (
    "This lady is wearing a long-sleeve white blazer with a lapel neckline. The blazer is made of wool and has two gold buttons."
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def summary(seconds: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds), "n": len(seconds)}


# -- model folder ------------------------------------------------------------------------------
def build_folder(spec: str, out: Path, dtype: Any, device: str, with_t5: bool) -> Path:
    """Random weights, built on the target device (fast init for 2B+ params) and saved in ``dtype``."""
    import torch

    from fashionedit.tinymodels import build_sd3_pipeline, save_pipeline

    if (out / "model_index.json").is_file():
        log(f"reusing {out}")
        return out
    start = time.perf_counter()
    with torch.device(device if device.startswith("cuda") else "cpu"):
        pipe = build_sd3_pipeline(spec, seed=0, with_t5=with_t5, torch_dtype=dtype, workdir=out.parent / f".{out.name}-tok")
    save_pipeline(pipe, out, spec_name=spec, seed=0)
    del pipe
    gc.collect()
    log(f"built and saved {spec} ({'with' if with_t5 else 'without'} T5) in {time.perf_counter() - start:.1f}s -> {out}")
    return out


# -- raw diffusers -----------------------------------------------------------------------------
def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def load_raw(folder: Path, dtype: Any, device: str) -> Any:
    from diffusers import AutoPipelineForText2Image, DiffusionPipeline

    index = DiffusionPipeline.load_config(str(folder))
    absent = {k: None for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and v == [None, None]}
    pipe = AutoPipelineForText2Image.from_pretrained(str(folder), torch_dtype=dtype, **absent)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def time_raw(pipe: Any, args: argparse.Namespace, batch: int, repeats: int) -> list[float]:
    import torch

    times = []
    for i in range(repeats):
        generators = [torch.Generator(args.device).manual_seed(1000 * i + j) for j in range(batch)]
        sync(args.device)
        start = time.perf_counter()
        pipe(
            prompt=[PROMPT] * batch,
            negative_prompt=[""] * batch,
            width=args.size,
            height=args.size,
            num_inference_steps=args.steps,
            guidance_scale=args.guidance,
            generator=generators,
            output_type="pil",
        )
        sync(args.device)
        times.append(time.perf_counter() - start)
    return times


def raw_phase(folder: Path, args: argparse.Namespace, dtype: Any) -> dict[str, Any]:
    import torch

    results: dict[str, Any] = {}
    start = time.perf_counter()
    pipe = load_raw(folder, dtype, args.device)
    results["load_s"] = time.perf_counter() - start
    cuda = args.device.startswith("cuda")
    variants = [("eager", False)] + ([("compiled", True)] if args.compile else [])
    for name, compiled in variants:
        if compiled:
            pipe.transformer = torch.compile(pipe.transformer, mode=args.compile_mode, fullgraph=True)
            pipe.vae.to(memory_format=torch.channels_last)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        time_raw(pipe, args, 1, 1)  # warm-up (and compilation)
        warm = time.perf_counter() - start
        one = time_raw(pipe, args, 1, args.repeats)
        time_raw(pipe, args, args.batch, 1)  # warm-up of the batch shape (recompiles under torch.compile)
        many = time_raw(pipe, args, args.batch, max(1, args.repeats // 2))
        entry = {
            "warmup_s": warm,
            "batch1": summary(one),
            "s_per_image_batch1": statistics.median(one),
            f"batch{args.batch}": summary(many),
            "s_per_image_batched": statistics.median(many) / args.batch,
        }
        if cuda:
            entry["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        results[name] = entry
        log(
            f"raw {name}: {entry['s_per_image_batch1']:.4f} s/image at batch 1, {entry['s_per_image_batched']:.4f} s/image at "
            f"batch {args.batch}"
        )
    # An image of the real output size for the encoding measurements (random weights give noise: the worst case for PNG).
    results["_sample_image"] = pipe(
        prompt=PROMPT, width=args.size, height=args.size, num_inference_steps=1, output_type="pil"
    ).images[0]
    del pipe
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return results


# -- encoding and transport --------------------------------------------------------------------
def timed(fn: Callable[[], Any], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def encoding_phase(image: Any, repeats: int) -> dict[str, Any]:
    from PIL import Image

    from fashionedit.contracts import encode_image

    out: dict[str, Any] = {"size": list(image.size), "png": {}}
    for level in (0, 1, 6):
        data = encode_image(image, "PNG", compress_level=level)
        out["png"][f"level{level}"] = {
            "encode_ms": timed(lambda level=level: encode_image(image, "PNG", compress_level=level), repeats),
            "bytes": len(data),
        }
    png = encode_image(image, "PNG")  # what the service sends (level 1)
    body = json.dumps({"image": base64.b64encode(png).decode("ascii")})
    out["base64_json_encode_ms"] = timed(lambda: json.dumps({"image": base64.b64encode(png).decode("ascii")}), repeats)
    out["base64_json_decode_ms"] = timed(lambda: base64.b64decode(json.loads(body)["image"]), repeats)
    out["png_decode_ms"] = timed(lambda: Image.open(io.BytesIO(png)).load(), repeats)
    out["json_bytes"], out["png_bytes"] = len(body), len(png)
    out["transport"] = transport_phase(png, repeats)
    return out


def transport_phase(png: bytes, repeats: int) -> dict[str, float]:
    """The same PNG over loopback HTTP (uvicorn, as BentoML serves) as base64 JSON and as binary."""
    import httpx
    import uvicorn
    from PIL import Image
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from tests.support.servers import free_port

    encoded = base64.b64encode(png).decode("ascii")
    app = Starlette(
        routes=[
            Route("/json", lambda request: JSONResponse({"image": encoded})),
            Route("/png", lambda request: Response(png, media_type="image/png")),
        ]
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            as_json = timed(lambda: Image.open(io.BytesIO(base64.b64decode(client.get("/json").json()["image"]))).load(), repeats)
            as_png = timed(lambda: Image.open(io.BytesIO(client.get("/png").content)).load(), repeats)
    finally:
        server.should_exit = True
        thread.join(10)
    return {"base64_json_ms": as_json, "binary_png_ms": as_png, "json_over_binary": as_json / as_png}


# -- the service -------------------------------------------------------------------------------
def service_phase(folder: Path, args: argparse.Namespace, max_batch_images: int, work: Path) -> dict[str, Any]:
    import httpx
    from PIL import Image

    from tests.support.servers import BentoServer

    env = {
        "FASHIONEDIT_GENERATOR_BACKEND": "sd3",
        "FASHIONEDIT_GENERATOR_MODEL": str(folder),
        "FASHIONEDIT_GENERATOR_DEVICE": args.device,
        "FASHIONEDIT_GENERATOR_DTYPE": args.dtype,
        "FASHIONEDIT_GENERATOR_COMPILE": "1" if args.compile else "0",
        "FASHIONEDIT_GENERATOR_COMPILE_MODE": args.compile_mode,
        "FASHIONEDIT_GENERATOR_CHANNELS_LAST_VAE": "1" if args.compile else "0",
        "FASHIONEDIT_GENERATOR_MAX_BATCH_IMAGES": str(max_batch_images),
        "FASHIONEDIT_GENERATOR_BATCH_WAIT_MS": str(args.batch_wait_ms if max_batch_images > 1 else 0),
        "FASHIONEDIT_GENERATOR_MAX_CONCURRENCY": str(max(args.concurrency * 2, 8)),
        "FASHIONEDIT_GENERATOR_TIMEOUT_S": "3600",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count() or 1)),
    }
    body = {"prompt": PROMPT, "width": args.size, "height": args.size, "steps": args.steps, "guidance": args.guidance}
    result: dict[str, Any] = {"max_batch_images": max_batch_images}
    start = time.perf_counter()
    with BentoServer(
        "fashionedit.services.generator.service:Generator",
        env=env,
        log_path=work / f"service-b{max_batch_images}.log",
        startup_timeout=1800,
    ) as server:
        result["startup_s"] = time.perf_counter() - start
        with httpx.Client(base_url=server.url, timeout=3600) as client:

            def one(seed: int) -> tuple[float, dict[str, float]]:
                t0 = time.perf_counter()
                response = client.post("/v1/generate", json={**body, "seed": seed})
                response.raise_for_status()
                data = response.json()
                for item in data["images"]:
                    Image.open(io.BytesIO(base64.b64decode(item["image"]))).load()
                return time.perf_counter() - t0, data["timings"]["stages"]

            one(0)  # warm-up: the first call after start-up (and after any compile warm-up)
            if args.compile:
                one(1)
            sequential = [one(10 + i) for i in range(args.repeats)]
            times = [t for t, _ in sequential]
            result["batch1"] = summary(times)
            result["s_per_image_batch1"] = statistics.median(times)
            result["stages_ms_median"] = {k: statistics.median(s[k] for _, s in sequential) for k in sequential[0][1]}
            total = args.concurrency * max(1, args.rounds)
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(one, range(100, 100 + args.concurrency)))  # warm-up of the batch shapes
                t0 = time.perf_counter()
                latencies = [t for t, _ in pool.map(one, range(200, 200 + total))]
                wall = time.perf_counter() - t0
            result["concurrent"] = {
                "clients": args.concurrency,
                "requests": total,
                "wall_s": wall,
                "images_per_s": total / wall,
                "latency": summary(latencies),
            }
    log(
        f"service max_batch_images={max_batch_images}: {result['s_per_image_batch1']:.4f} s/image at batch 1, "
        f"{result['concurrent']['images_per_s']:.3f} images/s with {args.concurrency} clients"
    )
    return result


# -- report ------------------------------------------------------------------------------------
def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    raw = results["raw"]
    eager = raw["eager"]["s_per_image_batch1"]
    print("\n== generator benchmark ==")
    print(f"machine: {results['machine']}")
    print(
        f"spec {args.spec}, {args.size}x{args.size}, {args.steps} steps, guidance {args.guidance}, {args.dtype}, device "
        f"{args.device}"
    )
    print(f"{'measurement':58s} {'s/image':>10s} {'images/s':>9s} {'vs raw eager':>13s}")

    def row(name: str, s_per_image: float) -> None:
        print(f"{name:58s} {s_per_image:10.4f} {1 / s_per_image:9.3f} {eager / s_per_image:12.2f}x")

    for variant in ("eager", "compiled"):
        if variant in raw:
            row(f"raw {variant}, batch 1", raw[variant]["s_per_image_batch1"])
            row(f"raw {variant}, one call of {args.batch}", raw[variant]["s_per_image_batched"])
    for svc in results.get("service", []):
        label = f"service{' (compiled)' if args.compile else ''}, max_batch_images={svc['max_batch_images']}"
        baseline = raw["compiled" if args.compile else "eager"]["s_per_image_batch1"]
        row(f"{label}: batch 1 (overhead {svc['s_per_image_batch1'] / baseline - 1:+.1%})", svc["s_per_image_batch1"])
        c = svc["concurrent"]
        row(f"{label}: {c['clients']} clients", 1 / c["images_per_s"])
    enc = results["encoding"]
    print(f"\nPNG {enc['size'][0]}x{enc['size'][1]} (random-weight output, worst case for compression):")
    for level, item in enc["png"].items():
        print(f"  {level}: {item['encode_ms']:.2f} ms, {item['bytes'] / 1024:.0f} KiB")
    print(
        f"  base64+JSON encode {enc['base64_json_encode_ms']:.2f} ms, decode {enc['base64_json_decode_ms']:.2f} ms, PNG decode "
        f"{enc['png_decode_ms']:.2f} ms"
    )
    t = enc["transport"]
    print(
        f"  loopback HTTP, request to decoded image: base64 JSON {t['base64_json_ms']:.2f} ms, binary {t['binary_png_ms']:.2f} "
        f"ms ({t['json_over_binary']:.2f}x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--spec", default="sd3-medium", help="fashionedit.tinymodels SD3 spec: sd3-medium (real compute) or sd3-tiny"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default=None, help="default: bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--size", type=int, default=None, help="default: the spec's size (1024 medium, 64 tiny)")
    parser.add_argument("--steps", type=int, default=28)
    parser.add_argument("--guidance", type=float, default=7.0)
    parser.add_argument("--repeats", type=int, default=3, help="timed batch-1 calls (after a warm-up)")
    parser.add_argument("--batch", type=int, default=4, help="images in one raw pipeline call")
    parser.add_argument("--concurrency", type=int, default=4, help="clients at once against the service")
    parser.add_argument("--rounds", type=int, default=2, help="requests per client in the concurrent phase")
    parser.add_argument(
        "--service-batch", type=int, nargs="*", default=[1, 4], help="MAX_BATCH_IMAGES settings to run the service with"
    )
    parser.add_argument("--batch-wait-ms", type=float, default=20.0)
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the transformer + channels_last VAE (raw and service)"
    )
    parser.add_argument("--compile-mode", default="max-autotune-no-cudagraphs")
    parser.add_argument(
        "--with-t5", action="store_true", help="include a random T5-XXL (adds ~30 ms of text encoding per call at full size)"
    )
    parser.add_argument("--model-dir", type=Path, default=None, help="reuse (or create) the random-weight folder here")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    from fashionedit.services.common.devices import resolve_device
    from fashionedit.tinymodels import SD3_SPECS

    args.device = resolve_device(args.device)
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    args.size = args.size or SD3_SPECS[args.spec].default_size
    dtype = getattr(torch, args.dtype)
    card = (
        torch.cuda.get_device_name(0)
        if args.device.startswith("cuda")
        else f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"
    )
    results: dict[str, Any] = {"machine": card, "args": {k: str(v) for k, v in vars(args).items()}}
    work = Path(tempfile.mkdtemp(prefix="generator-bench-"))
    folder = args.model_dir or work / f"{args.spec}{'-t5' if args.with_t5 else ''}"
    try:
        build_folder(args.spec, folder, dtype, args.device, args.with_t5)
        raw = raw_phase(folder, args, dtype)
        sample = raw.pop("_sample_image")
        results["raw"] = raw
        results["encoding"] = encoding_phase(sample, repeats=max(5, args.repeats))
        results["service"] = [] if args.skip_service else [service_phase(folder, args, b, work) for b in args.service_batch]
    finally:
        if args.model_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    report(results, args)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
