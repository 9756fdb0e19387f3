"""Terminal views of sessions and services (rich), shared by the CLI commands."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fashionedit.contracts import ModelInfo, ServiceInfo

from .session import OFFLINE_LABEL, Guidance, RoundStatus, Session, SessionStore, SessionSummary


def model_label(model: ModelInfo | None, *, short: bool = False) -> str:
    if model is None:
        return "-"
    text = model.backend if short else f"{model.backend} · {model.model_id}"
    if model.offline:
        text += f" [bold yellow]({OFFLINE_LABEL})[/]"
    if model.random_weights and "random" not in text:
        text += " [bold red](random weights)[/]"
    return text


def _scores_text(guidance: Guidance | None) -> tuple[str, str]:
    if guidance is None or guidance.scores is None:
        return "-", "-"
    pair = guidance.scores.pair
    reasons = {m.metric.value: m.reason for m in guidance.scores.metrics if not m.available}
    psnr = f"{pair.psnr:.2f}" if pair.psnr is not None else ("n/a" if "psnr" in reasons else "-")
    clip = f"{pair.clip:.2f}" if pair.clip is not None else ("n/a" if "clip" in reasons else "-")
    return psnr, clip


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def session_table(store: SessionStore, session: Session) -> Table:
    title = f"session {session.id}" + (f" · {session.name}" if session.name else "")
    if session.offline:
        title += f" · [bold yellow]{OFFLINE_LABEL}[/]"
    table = Table(title=title, caption="text: text-as-prompt (Vanilla) · text+image: image-into-prompt (BUG) · PSNR (dB) and CLIP against the target")
    for column in ("step", "kind", "instruction / prompt", "backend", "PSNR", "CLIP"):
        table.add_column(column, overflow="fold", no_wrap=column in ("step", "PSNR"), ratio=3 if column.startswith("instr") else None)
    psnr, clip = _scores_text(session.draft.guidance)
    picked = f" {session.draft.chosen}/{len(session.draft.candidates)}" if session.draft.candidates else " (pending)"
    table.add_row("0", "draft" + picked, _short(session.draft.prompt, 70), model_label(session.draft.model, short=True), psnr, clip)
    for round_ in session.rounds:
        psnr, clip = _scores_text(round_.guidance)
        kind = "text+image" if round_.references else "text"
        if round_.status is not RoundStatus.DONE:
            kind += f" [red]({round_.status.value})[/]"
        table.add_row(str(round_.index), kind, _short(round_.instruction, 70), model_label(round_.model, short=True), psnr, clip)
    return table


def print_session(console: Console, store: SessionStore, session: Session) -> None:
    console.print(session_table(store, session))
    console.print(f"images: {store.folder(session.id) / 'images'}")
    reasons = {m.reason for g in _all_guidance(session) if g.scores for m in g.scores.metrics if not m.available and m.reason}
    for reason in sorted(reasons):
        console.print(f"n/a: {reason}")
    if session.draft.candidates and session.draft.chosen is None:
        console.print("Candidates (pick one with `fashionedit session pick ID N`):")
        for number, candidate in enumerate(session.draft.candidates):
            console.print(f"  {number}: {store.image_path(session, candidate.image)} (seed {candidate.seed})")
    for round_ in session.rounds:
        if round_.error:
            console.print(f"[red]round {round_.index}: {round_.error}[/]")
    step = session.current_index()
    guidance = session.step_guidance(step) if (step == 0 and session.draft.chosen is not None) or step > 0 else None
    if guidance and guidance.analysis and guidance.analysis.suggestions:
        console.print(f"Proposed next edits from the target ({model_label(guidance.analysis.model)}):")
        for suggestion in guidance.analysis.suggestions:
            box = [round(v) for v in suggestion.box_2d.root]
            console.print(f"  {suggestion.number}. {suggestion.description}  box_2d {box}  (round --suggestion {suggestion.number})")
    if guidance:
        for error in guidance.errors:
            console.print(f"[yellow]{error}[/]")


def _all_guidance(session: Session) -> list[Guidance]:
    found = [session.draft.guidance] + [r.guidance for r in session.rounds]
    return [g for g in found if g is not None]


def summaries_table(summaries: list[SessionSummary]) -> Table:
    table = Table(title="design sessions")
    for column in ("id", "name", "prompt", "rounds", "state", "profile", "branched from", "updated"):
        table.add_column(column, overflow="fold", no_wrap=column in ("id", "updated"))
    for s in summaries:
        state = "pending" if s.pending else "done"
        origin = f"{s.branched_from.session_id} @ {s.branched_from.round}" if s.branched_from else ""
        prompt = _short(s.prompt, 40)
        table.add_row(
            s.id, s.name or "", prompt, f"{s.completed}/{s.rounds}", state, OFFLINE_LABEL if s.offline else "models",
            origin, f"{s.updated_at:%m-%d %H:%M}",
        )
    return table


def services_table(infos: dict[str, ServiceInfo | Exception], urls: dict[str, list[str]]) -> Table:
    table = Table(title="services")
    for column in ("service", "url", "ready", "backend · model"):
        table.add_column(column, overflow="fold")
    for name, info in infos.items():
        if isinstance(info, Exception):
            table.add_row(name, ", ".join(urls[name]), "[red]no[/]", f"[red]{info}[/]")
        else:
            table.add_row(name, ", ".join(urls[name]), "yes" if info.ready else "[yellow]loading[/]", model_label(info.model))
    return table


class RichProgress:
    """A progress bar for session work (implements design.Progress)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("working", total=None)

    def begin(self, total: int) -> None:
        self.progress.update(self.task, total=max(total, 1), completed=0)

    def step(self, label: str) -> None:
        self.progress.update(self.task, description=label)

    def advance(self) -> None:
        self.progress.advance(self.task)


@contextmanager
def progress_bar(console: Console, enabled: bool = True) -> Iterator[RichProgress]:
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False, disable=not enabled,
    )
    with progress:
        yield RichProgress(progress)


def describe_profiles(profiles: dict[str, str]) -> str:
    parts = [f"{name}: {OFFLINE_LABEL if profile == 'offline' else 'configured (FASHIONEDIT_' + name.upper() + '_*)'}" for name, profile in profiles.items()]
    return "profiles: " + ", ".join(parts)
