"""The one progress protocol every long client operation reports to, and the rich bar the CLI draws from it.

A design session step, a dataset build phase and a benchmark run all report the same three things:
a new task with its size (:meth:`Progress.start`), what is happening now (:meth:`Progress.describe`),
and work finished, successfully or not (:meth:`Progress.advance`). The SDK reports to
:class:`NoProgress`; the CLI to :class:`RichProgressBar`; the studio writes it into a job.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as _RichProgress


class Progress(Protocol):
    def start(self, total: int, description: str) -> None:
        """A new task of ``total`` units; replaces the previous one."""

    def describe(self, label: str) -> None:
        """What is being done now (shown beside the bar)."""

    def advance(self, n: int = 1, *, failed: bool = False) -> None:
        """``n`` units finished; ``failed`` counts them as failures."""


class NoProgress:
    """Reports nowhere (the SDK's default)."""

    def start(self, total: int, description: str) -> None:
        pass

    def describe(self, label: str) -> None:
        pass

    def advance(self, n: int = 1, *, failed: bool = False) -> None:
        pass


class RichProgressBar:
    """A progress bar with count, failures, elapsed time and ETA; use as a context manager."""

    def __init__(self, console: Console | None = None, *, enabled: bool = True) -> None:
        self.failed = 0
        self.progress = _RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failures]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            refresh_per_second=2,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgressBar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def start(self, total: int, description: str) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.failed = 0
        self.task = self.progress.add_task(description, total=total, failures="")

    def describe(self, label: str) -> None:
        if self.task is None:
            self.task = self.progress.add_task(label, total=None, failures="")
        else:
            self.progress.update(self.task, description=label)

    def advance(self, n: int = 1, *, failed: bool = False) -> None:
        if self.task is None:
            return
        if failed:
            self.failed += n
        self.progress.update(self.task, advance=n, failures=f"failed {self.failed}" if self.failed else "")
