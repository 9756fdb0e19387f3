"""Open-weights editors benchmark: seconds per edit and peak memory of qwen-edit and flux-kontext.

Each editor is built with random weights from ``fashionedit.tinymodels`` (full-size specs copy the published
configs of Qwen-Image-Edit-2509 and FLUX.1-Kontext-dev, so the compute is the real models'; no weights are
needed) and driven through the editor backend's own edit path (decode, pipeline call, box composite, PNG
encode), exactly what the service runs per request. Per editor it measures:

* Vanilla (the design alone) and BUG (the design plus references: two for qwen-edit, one stitched beside
  the design for flux-kontext), median seconds per edit after a warm-up edit;
* peak memory: accelerator memory on CUDA (``torch.cuda.max_memory_allocated``), the process's peak RSS on CPU;
* the same with model CPU offload (``enable_model_cpu_offload``; CUDA only), against the resident pipeline
  measured in the same run (the ``vs_resident`` ratio).

Weights are random: these are timings, never quality figures.

CPU check at tiny size (seconds)::

    python benchmarks/open_editors_gpu.py --tiny

GPU (one 80 GB+ card, e.g. H100/H200; docs/benchmarks.md)::

    python benchmarks/open_editors_gpu.py --device cuda --dtype bfloat16 --repeats 3 --out runs/open-editors.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

EDITORS = {
    # name: (backend class path, tiny spec, full spec, references in a BUG edit)
    "qwen-edit": (
        "fashionedit.services.editor.backends.qwen_edit:QwenEditBackend",
        "qwen-image-edit-tiny",
        "qwen-image-edit-2509",
        2,
    ),
    "flux-kontext": (
        "fashionedit.services.editor.backends.flux_kontext:FluxKontextBackend",
        "flux-kontext-tiny",
        "flux-kontext-dev",
        1,
    ),
}
INSTRUCTION = "The collar is white lace and the sleeves end above the elbow."


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build(editor: str, spec: str, device: str, dtype: Any) -> Any:
    """The random pipeline, created directly on ``device`` in ``dtype`` (a 20B model never passes through fp32)."""
    import torch

    from fashionedit import tinymodels

    builder = tinymodels.build_qwen_edit_pipeline if editor == "qwen-edit" else tinymodels.build_kontext_pipeline
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            pipe = builder(spec, workdir=Path(tempfile.mkdtemp(prefix="fe-bench-tok-")))
    finally:
        torch.set_default_dtype(previous)
    return pipe.to(device=device, dtype=dtype)


def design_and_references(size: int, count: int) -> tuple[Any, list[Any]]:
    import numpy as np
    from PIL import Image

    from fashionedit.contracts import ImagePayload

    rng = np.random.default_rng(0)

    def noise(side: int) -> Any:
        return ImagePayload.from_pil(Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8), "RGB"))

    return noise(size), [noise(size // 2) for _ in range(count)]


def peak_reset(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gib(device: str) -> tuple[str, float]:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        return "cuda_max_allocated", torch.cuda.max_memory_allocated() / 2**30
    return "process_peak_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def time_edits(backend: Any, *, design: Any, references: list[Any], repeats: int, device: str) -> dict[str, Any]:
    import torch

    from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT
    from fashionedit.services.editor.backends.base import EditJob

    prompt = (BUG_PROMPT if references else VANILLA_PROMPT) + INSTRUCTION

    def one(seed: int) -> float:
        job = EditJob(image=design, instruction=INSTRUCTION, prompt=prompt, references=references, seed=seed)
        start = time.perf_counter()
        backend.edit_sync(job)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    one(0)  # warm-up: kernels, allocator, offload hooks
    peak_reset(device)
    seconds = [one(seed) for seed in range(1, repeats + 1)]
    kind, peak = peak_gib(device)
    return {
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "n": len(seconds),
        kind + "_gib": round(peak, 3),
    }


def bench_editor(editor: str, args: argparse.Namespace, dtype: Any) -> dict[str, Any]:
    import importlib

    import torch

    from fashionedit.services.editor.settings import EditorSettings

    module, _, cls = EDITORS[editor][0].partition(":")
    tiny_spec, full_spec, ref_count = EDITORS[editor][1:]
    spec = tiny_spec if args.tiny else full_spec
    size = 64 if args.tiny else args.size
    settings = EditorSettings(
        open_edit_steps=args.steps,
        open_edit_max_area=size * size,
        qwen_edit_vae_area=size * size if args.tiny else None,
        flux_kontext_max_sequence_length=args.max_sequence_length,
    )
    backend = getattr(importlib.import_module(module), cls)(settings)
    log(f"{editor}: building {spec} on {args.device} ({args.dtype})")
    started = time.perf_counter()
    pipe = build(editor, spec, args.device, dtype)
    build_s = time.perf_counter() - started
    params = sum(
        p.numel()
        for name in ("transformer", "text_encoder", "text_encoder_2", "vae")
        if getattr(pipe, name, None) is not None
        for p in getattr(pipe, name).parameters()
    )
    backend.use_pipeline(pipe, device=args.device, dtype=dtype)
    design, references = design_and_references(size, ref_count)
    result: dict[str, Any] = {
        "spec": spec,
        "size": size,
        "steps": settings.open_edit_steps,
        "parameters": params,
        "build_s": round(build_s, 1),
    }
    for mode, refs in (("vanilla", []), ("bug", references)):
        log(f"{editor}: {mode}, resident")
        result[f"{mode}_resident"] = time_edits(backend, design=design, references=refs, repeats=args.repeats, device=args.device)
    if args.device.startswith("cuda") and not args.no_offload:
        pipe.to("cpu")
        peak_reset(args.device)
        pipe.enable_model_cpu_offload(device=torch.device(args.device))
        for mode, refs in (("vanilla", []), ("bug", references)):
            log(f"{editor}: {mode}, model CPU offload")
            row = time_edits(backend, design=design, references=refs, repeats=args.repeats, device=args.device)
            row["vs_resident"] = round(row["median_s"] / result[f"{mode}_resident"]["median_s"], 2)
            result[f"{mode}_offload"] = row
    else:
        result["offload"] = (
            "not measured: model CPU offload needs a CUDA device"
            if not args.device.startswith("cuda")
            else "skipped (--no-offload)"
        )
    del backend, pipe
    peak_reset(args.device)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="tiny random pipelines, 64x64, on the CPU (a check of this script)")
    parser.add_argument("--editors", default=",".join(EDITORS), help="comma-separated: qwen-edit,flux-kontext")
    parser.add_argument("--device", default=None, help="cuda (default) or cpu; --tiny: cpu")
    parser.add_argument(
        "--dtype", default=None, choices=["float32", "float16", "bfloat16"], help="default: bfloat16 on CUDA, float32 on CPU"
    )
    parser.add_argument("--size", type=int, default=1024, help="design side in pixels at full size (the models' 1024x1024)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps; default: the models' (40 / 28), --tiny: 2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-sequence-length", type=int, default=512, help="flux-kontext T5 tokens")
    parser.add_argument("--no-offload", action="store_true", help="skip the CPU offload rows")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    import torch

    args.device = args.device or ("cpu" if args.tiny else "cuda")
    args.dtype = args.dtype or ("bfloat16" if args.device.startswith("cuda") else "float32")
    if args.tiny:
        args.steps = args.steps or 2
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA device here: run with --tiny (CPU) or on a GPU machine")
    torch.manual_seed(0)
    machine = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
        "cpus": os.cpu_count(),
    }
    report: dict[str, Any] = {"machine": machine, "dtype": args.dtype, "tiny": args.tiny, "random_weights": True, "editors": {}}
    for editor in [e.strip() for e in args.editors.split(",") if e.strip()]:
        if editor not in EDITORS:
            parser.error(f"unknown editor {editor!r}; choose from {', '.join(EDITORS)}")
        report["editors"][editor] = bench_editor(editor, args, getattr(torch, args.dtype))
    print(json.dumps(report, indent=2))
    print("\neditor        mode     placement   s/edit   peak GiB   vs resident")
    for editor, rows in report["editors"].items():
        for key, row in rows.items():
            if isinstance(row, dict):
                mode, placement = key.split("_")
                peak = next(v for k, v in row.items() if k.endswith("_gib"))
                print(
                    f"{editor:13} {mode:8} {placement:10} {row['median_s']:7.3f}  {peak:9.2f}   {row.get('vs_resident', 1.0):.2f}"
                )
    print("(random weights: timings only)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
