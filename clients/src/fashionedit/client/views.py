"""Terminal views of sessions and services (rich), shared by the CLI commands."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fashionedit.contracts import ModelInfo, ServiceInfo

from .bundle import FashionEditClient
from .common.progress import RichProgressBar
from .errors import FashionEditError
from .local import LocalServices, ServiceProcess
from .session import OFFLINE_LABEL, Guidance, Round, Session, SessionStore, SessionSummary


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


def _draft_kind(session: Session) -> str:
    draft = session.draft
    if not draft.candidates:
        return "draft (pending)" if not draft.error else "draft [red](failed)[/]"
    if draft.chosen is None:
        return f"draft [yellow](not picked: {len(draft.candidates)} candidates)[/]"
    return "draft" if len(draft.candidates) == 1 else f"draft (candidate {draft.chosen} of {len(draft.candidates)})"


_STATE_STYLE = {"done": "green", "edited": "cyan", "pending": "yellow", "failed": "red", "no-op": "bold yellow"}


def round_state(round_: Round) -> str:
    """The state cell: state, coloured, and the share of pixels the edit changed."""
    text = f"[{_STATE_STYLE.get(round_.state, 'white')}]{round_.state}[/]"
    if round_.change is not None:
        text += f"\nΔ {round_.change.changed_fraction:.1%}"
    return text


def session_table(store: SessionStore, session: Session) -> Table:
    title = f"session {session.id}" + (f" · {escape(session.name)}" if session.name else "")
    if session.offline:
        title += f" · [bold yellow]{OFFLINE_LABEL}[/]"
    table = Table(
        title=title,
        caption="text: text-as-prompt (Vanilla) · text+image: image-into-prompt (BUG) · Δ: pixels changed · PSNR (dB), CLIP vs "
        "target",
    )
    table.add_column("#", no_wrap=True)
    table.add_column("kind · backend", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("instruction / prompt", overflow="fold", ratio=3)
    table.add_column("PSNR", no_wrap=True)
    table.add_column("CLIP", no_wrap=True)
    psnr, clip = _scores_text(session.draft.guidance)
    draft_state = "[green]done[/]" if session.draft.chosen is not None and not session.pending_draft else "[yellow]pending[/]"
    table.add_row(
        "0",
        _draft_kind(session) + "\n" + model_label(session.draft.model, short=True),
        draft_state,
        escape(_short(session.draft.prompt, 90)),
        psnr,
        clip,
    )
    for round_ in session.rounds:
        psnr, clip = _scores_text(round_.guidance)
        kind = "text+image" if round_.references else "text"
        box = f"\nbox {[round(v) for v in round_.target_box.root]}" if round_.target_box else ""
        table.add_row(
            str(round_.index),
            kind + "\n" + model_label(round_.model, short=True),
            round_state(round_),
            escape(_short(round_.instruction, 90)) + box,
            psnr,
            clip,
        )
    return table


def step_notes(session: Session) -> list[str]:
    """Every warning, no-op, error and next step, one line each; a warning several steps share is printed once."""
    lines: list[str] = []
    grouped: dict[str, list[str]] = {}
    steps = [("draft", session.draft.warnings)] + [(f"round {r.index}", r.warnings) for r in session.rounds]
    for label, warnings in steps:
        for warning in warnings:
            grouped.setdefault(warning, []).append(label)
    for warning, labels in grouped.items():
        lines.append(f"[yellow]warning[/] ({', '.join(labels)}): {escape(warning)}")
    if session.draft.error:
        lines.append(f"[red]draft failed[/]: {escape(session.draft.error)}")
    for round_ in session.rounds:
        if round_.no_op and round_.change is not None:
            lines.append(
                f"[bold yellow]round {round_.index} is a no-op[/]: {escape(round_.change.no_op_reason or '')}. "
                f"Its image is kept; `fashionedit session retry {session.id} {round_.index} -i ...` tries other words"
            )
        if round_.error:
            lines.append(f"[red]round {round_.index} {round_.state}[/]: {escape(round_.error)}")
    blocking = session.blocking_round()
    if blocking is not None:
        lines.append(
            f"next: `fashionedit session retry {session.id} {blocking.index}` (as it was, or with -i/--ref/--box), "
            f"`fashionedit session drop {session.id} {blocking.index}`, or `session round --replace`"
        )
    return lines


def print_session(console: Console, store: SessionStore, session: Session) -> None:
    console.print(session_table(store, session))
    console.print(f"images: {escape(str(store.folder(session.id) / 'images'))}")
    said = " ".join(w for step in [session.draft.warnings] + [r.warnings for r in session.rounds] for w in step)
    reasons = {m.reason for g in _all_guidance(session) if g.scores for m in g.scores.metrics if not m.available and m.reason}
    for reason in sorted(r for r in reasons if r not in said):
        console.print(f"n/a: {escape(reason)}")
    if session.draft.candidates and session.draft.chosen is None:
        console.print("Candidates (pick one with `fashionedit session pick ID N`):")
        for number, candidate in enumerate(session.draft.candidates):
            console.print(f"  {number}: {escape(str(store.image_path(session, candidate.image)))} (seed {candidate.seed})")
    for line in step_notes(session):
        console.print(line)
    step = session.current_index()
    guidance = session.step_guidance(step) if (step == 0 and session.draft.chosen is not None) or step > 0 else None
    if guidance and guidance.analysis and guidance.analysis.suggestions:
        console.print(f"Proposed next edits from the target ({model_label(guidance.analysis.model)}):")
        for suggestion in guidance.analysis.suggestions:
            box = [round(v) for v in suggestion.box_2d.root]
            console.print(
                f"  {suggestion.number}. {escape(suggestion.description)}  box_2d {box}  (round --suggestion {suggestion.number})"
            )
    if guidance:
        for error in guidance.errors:
            console.print(f"[yellow]{escape(error)}[/]")


def _all_guidance(session: Session) -> list[Guidance]:
    found = [session.draft.guidance] + [r.guidance for r in session.rounds]
    return [g for g in found if g is not None]


def print_summaries(console: Console, summaries: list[SessionSummary]) -> None:
    """Two lines a session, readable at 80 columns: id, name, profile, rounds and their states; then the prompt."""
    console.print(f"[bold]design sessions[/] ({len(summaries)}, oldest first)")
    for s in summaries:
        counts: dict[str, int] = {}
        for state in s.states:
            counts[state] = counts.get(state, 0) + 1
        states = ", ".join(f"[{_STATE_STYLE.get(k, 'white')}]{n} {k}[/]" for k, n in counts.items()) or "no rounds"
        profile = f"[bold yellow]{OFFLINE_LABEL}[/]" if s.offline else "configured models"
        name = f" [bold]{escape(s.name)}[/]" if s.name else ""
        warnings = f" · {s.warnings} warning(s)" if s.warnings else ""
        console.print(f"[bold]{s.id}[/]{name} · {profile} · {states}{warnings} · {s.updated_at:%m-%d %H:%M}")
        origin = f" (branched from {s.branched_from.session_id} @ round {s.branched_from.round})" if s.branched_from else ""
        console.print(f"    {escape(_short(s.prompt, 64))}{origin}", overflow="fold")


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


def print_services(console: Console, client: FashionEditClient) -> dict[str, ServiceInfo | Exception]:
    """Ask every service what it runs; print the table, and the offline warning when any runs offline."""
    infos: dict[str, ServiceInfo | Exception] = {}
    for name, svc in client.services().items():
        try:
            infos[name] = svc.info()
        except FashionEditError as exc:
            infos[name] = exc
    console.print(services_table(infos, {name: svc.urls for name, svc in client.services().items()}))
    if any(isinstance(i, ServiceInfo) and i.model and i.model.offline for i in infos.values()):
        console.print(
            f"[bold yellow]{OFFLINE_LABEL}[/]: results do not come from the paper's models (see docs/client.md to configure them)"
        )
    return infos


def start_services(console: Console, stack: LocalServices) -> None:
    """Start ``stack`` under a progress bar: one step per service, each named as it becomes ready."""
    with RichProgressBar(console) as progress:
        progress.start(len(stack.processes), "loading models")

        def ready(process: ServiceProcess) -> None:
            progress.describe(f"{process.name} ready in {process.ready_after_s:.1f}s")
            progress.advance()

        stack.start(on_ready=ready)


def describe_profiles(profiles: dict[str, str]) -> str:
    parts = [
        f"{name}: {OFFLINE_LABEL if profile == 'offline' else 'configured (FASHIONEDIT_' + name.upper() + '_*)'}"
        for name, profile in profiles.items()
    ]
    return "profiles: " + ", ".join(parts)
