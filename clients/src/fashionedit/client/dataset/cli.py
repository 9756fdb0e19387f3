"""``fashionedit dataset build|info``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from fashionedit.contracts.benchmark import OFFLINE_LABEL
from fashionedit.contracts.dataset import PAPER_KEPT

from ..cli_errors import handle_errors
from ..common.dataset_folder import load_dataset
from ..common.progress import RichProgressBar
from ..settings import ClientSettings
from .builder import BuildConfig, DatasetBuilder

console = Console()
err_console = Console(stderr=True)


dataset_app = typer.Typer(
    help="Build and inspect FashionEdit datasets (from DeepFashion-MultiModal, through the services).", no_args_is_help=True
)


@dataset_app.command("build")
@handle_errors
def build(
    source: Path = typer.Argument(..., help="DeepFashion-MultiModal folder: captions.json + images/"),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write (rerun with the same --out to resume)"),
    select: str = typer.Option("top_n", "--select", help="top_n (by --rank-by), list (--list), or all"),
    top_n: int = typer.Option(PAPER_KEPT, "--top-n", help="Drafts kept by top_n (the paper: 11,546)"),
    rank_by: str = typer.Option("clip", "--rank-by", help="clip (the paper) or psnr (when CLIP weights are not configured)"),
    selection_list: Path | None = typer.Option(None, "--list", help="Selection list in the captions_top.json format"),
    drafts_from: Path | None = typer.Option(
        None, "--drafts-from", help="Use <stem>.png drafts from this folder instead of the generator"
    ),
    draft_size: int = typer.Option(1024, help="Generated draft side (the paper: 1024)"),
    steps: int = typer.Option(28, help="Denoising steps (the paper: 28)"),
    guidance: float = typer.Option(7.0, help="Guidance scale (the paper: 7.0)"),
    image_size: int = typer.Option(1024, help="Side of the dataset's square originals and drafts"),
    resize_mode: str = typer.Option("pad", help="pad (keep aspect on white) or stretch"),
    k: int = typer.Option(3, help="Differences per sample (the paper: 3)"),
    differences_from: Path | None = typer.Option(
        None, "--differences-from", help="Ground-truth differences JSONL instead of the analyzer"
    ),
    keep_fewer: bool | None = typer.Option(
        None,
        "--keep-fewer/--drop-fewer",
        help="Keep or drop samples with fewer than k differences [default: keep with --select list, so the list's split stays "
        "10,546/1,000; drop otherwise]",
    ),
    seed: int = typer.Option(0, help="Draft seed base"),
    split_seed: int = typer.Option(0, help="Split seed"),
    val_size: int | None = typer.Option(None, help="Val samples [default: 1,000 of 11,546, or the same proportion]"),
    limit: int | None = typer.Option(None, help="Only the first N candidates (sorted ids)"),
    concurrency: int = typer.Option(
        8, "--concurrency", "-c", help="Requests in flight (spread over the replicas in the service URLs)"
    ),
    item_attempts: int = typer.Option(
        3, help="Tries per item and stage after a local fault (file I/O); service errors fail at once"
    ),
    no_progress: bool = typer.Option(False, "--no-progress"),
) -> None:
    """Build a FashionEdit dataset: drafts, scores, selection, differences with crops, seeded split, manifest."""
    config = BuildConfig(
        source=source,
        out=out,
        selection=select,
        top_n=top_n,
        rank_by=rank_by,
        selection_list=selection_list,
        drafts_from=drafts_from,
        draft_size=draft_size,
        steps=steps,
        guidance=guidance,
        image_size=image_size,
        resize_mode=resize_mode,
        k=k,
        differences_from=differences_from,
        require_k=None if keep_fewer is None else not keep_fewer,
        seed=seed,
        split_seed=split_seed,
        val_size=val_size,
        limit=limit,
        concurrency=concurrency,
        item_attempts=item_attempts,
    )
    with RichProgressBar(console, enabled=not no_progress) as progress:
        result = asyncio.run(DatasetBuilder(config, ClientSettings(), progress=progress).run())
    m = result.manifest
    label = f" [bold yellow]({OFFLINE_LABEL})[/]" if m.offline else ""
    console.print(f"wrote {m.num_samples} samples ({m.split.train} train / {m.split.val} val) to {result.out}{label}")
    console.print(
        f"selection: {m.selection.method}, {m.selection.kept} of {m.selection.candidates} candidates"
        + (f", dropped {m.selection.dropped}" if m.selection.dropped else "")
    )
    if m.selection.dropped:
        err_console.print(f"[yellow]split: {m.split.rule}[/]")
    if result.failed:
        console.print(
            f"[red]failed items by stage: {result.failed}[/] (details in {result.out}/.work/errors.jsonl; rerun to retry)"
        )


@dataset_app.command("info")
@handle_errors
def info(root: Path = typer.Argument(..., help="Dataset folder")) -> None:
    """Print a dataset's header and split counts."""
    dataset = load_dataset(root)
    console.print_json(dataset.manifest.model_dump_json())
    console.print(f"{len(dataset.samples)} samples: {len(dataset.split('train'))} train, {len(dataset.split('val'))} val")
