"""``fashionedit bench run|report``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..cli_errors import handle_errors
from ..common.progress import RichProgressBar
from ..settings import ClientSettings, split_urls
from .report import markdown_table, write_report
from .runner import BenchmarkRunner, RunConfig

console = Console()
bench_app = typer.Typer(
    help="Run the paper's Table 1 benchmark over a FashionEdit dataset, resumably, and report it.", no_args_is_help=True
)


@bench_app.command("run")
@handle_errors
def run(
    dataset: Path = typer.Option(..., "--dataset", "-d", help="FashionEdit dataset folder (fashionedit dataset build)"),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (rerun with the same --out to resume after an interruption)"),
    method: list[str] | None = typer.Option(None, "--method", "-m", help="SD2, SD3, Vanilla, BUG (repeatable) [default: all]"),
    rounds: int = typer.Option(3, help="Editing rounds (the paper: 3)"),
    concurrency: int = typer.Option(
        16, "--concurrency", "-c", help="Steps in flight (spread over the replicas in the service URLs)"
    ),
    item_attempts: int = typer.Option(3, help="Tries per step after a local fault (file I/O); a service error fails it at once"),
    seed: int = typer.Option(0),
    clip_threshold: float = typer.Option(0.90, help="CLIP* counts cosines above this"),
    limit: int | None = typer.Option(None, help="Only the first N items (sorted ids) per split selection"),
    box: str = typer.Option(
        "never",
        help="Send the difference box as target_box: never (the paper's exact calls), bug (BUG rounds; "
        "an OpenAI editor then sends a mask), all",
    ),
    edit_size: str | None = typer.Option(None, help="Editor output size, e.g. 1024x1024"),
    missing_difference: str = typer.Option(
        "fail", help="Items with fewer differences than rounds: fail those rounds, or carry the output"
    ),
    sd2_generator_url: str | None = typer.Option(
        None, help="Generator replica URL(s) serving SD2, comma-separated (the SD2 row)"
    ),
    allow_changed_services: bool = typer.Option(False, help="Resume even though a service now reports another model"),
    no_progress: bool = typer.Option(False, "--no-progress"),
    no_report: bool = typer.Option(False, "--no-report", help="Skip writing table1.* and the contact sheets at the end"),
) -> None:
    """Run SD2/SD3 initialisation (train+val) and Vanilla(k)/BUG(k) (val), scoring every round; resumes where it stopped."""
    config = RunConfig(
        dataset=dataset.resolve(),
        out=out,
        methods=method or ["SD2", "SD3", "Vanilla", "BUG"],
        rounds=rounds,
        concurrency=concurrency,
        item_attempts=item_attempts,
        seed=seed,
        clip_threshold=clip_threshold,
        limit=limit,
        box=box,
        edit_size=edit_size,
        missing_difference=missing_difference,
        sd2_generator_url=split_urls(sd2_generator_url) if sd2_generator_url else None,
    )
    runner = BenchmarkRunner(config, ClientSettings(), allow_changed_services=allow_changed_services)
    with RichProgressBar(console, enabled=not no_progress) as progress:
        runner.progress = progress
        import asyncio

        asyncio.run(runner.run())
    console.print(
        f"steps this session: {runner.counts['ok']} ok, {runner.counts['failed']} failed; records in {out}/records.jsonl"
    )
    if not no_report:
        report, paths = write_report(out)
        console.print(markdown_table(report))
        console.print(f"wrote {paths['markdown']}, {paths['csv'].name}, {paths['json'].name}; contact sheets: {paths['sheets']}")


@bench_app.command("report")
@handle_errors
def report(
    run_dir: Path = typer.Argument(..., help="Run folder"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Table file stem, e.g. docs/results/table1 [default: <run>/table1]"
    ),
    sheets: bool = typer.Option(True, help="Also write the HTML contact sheets"),
) -> None:
    """Recompute Table 1 from a run's records (markdown, CSV, JSON) and write the contact sheets."""
    result, paths = write_report(run_dir, out, sheets=sheets)
    console.print(markdown_table(result))
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))
