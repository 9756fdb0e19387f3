"""A rich progress bar with rate and ETA for dataset builds and benchmark runs."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichProgressBar:
    """Implements the pool's Progress protocol; use as a context manager."""

    def __init__(self, console: Console | None = None, *, enabled: bool = True) -> None:
        self.failed = 0
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled, refresh_per_second=2,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> "RichProgressBar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def start(self, total: int, description: str) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.failed = 0
        self.task = self.progress.add_task(description, total=total, failed=0)

    def advance(self, n: int = 1, *, failed: bool = False) -> None:
        if self.task is None:
            return
        if failed:
            self.failed += n
        self.progress.update(self.task, advance=n, failed=self.failed)

    def set_total(self, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, total=total)
