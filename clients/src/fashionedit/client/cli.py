"""The `fashionedit` command: start the services, run design sessions, export them, run the demo."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import typer
from rich.console import Console

from .bundle import FashionEditClient
from .cli_errors import handle_errors
from .common.progress import RichProgressBar
from .design import DesignSessions
from .errors import FashionEditError
from .export import export_html
from .local import LocalServices
from .script import ScriptRound, SessionScript, load_script
from .session import OFFLINE_LABEL, Session, SessionStore
from .settings import SERVICES, ClientSettings
from .views import describe_profiles, print_services, print_session, print_summaries, start_services

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="fashionedit",
    help="FashionEdit: draft and edit fashion designs over rounds (text-as-prompt and image-into-prompt) "
    "with the generator, editor, analyzer and scorer services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
session_app = typer.Typer(
    help="Design sessions: new, round, retry, drop, undo, resume, pick, target, show, list, branch, export.", no_args_is_help=True
)
app.add_typer(session_app, name="session")

# Dataset builder and benchmark runner (their own modules; registered here).
from .benchmark.cli import bench_app  # noqa: E402
from .dataset.cli import dataset_app  # noqa: E402

app.add_typer(dataset_app, name="dataset")
app.add_typer(bench_app, name="bench")

DirOption = typer.Option(
    None, "--dir", envvar="FASHIONEDIT_SESSIONS_DIR", help="Sessions folder [default: ~/.local/share/fashionedit/sessions]"
)


def _settings(sessions_dir: Path | None = None) -> ClientSettings:
    settings = ClientSettings()
    if sessions_dir is not None:
        settings = settings.model_copy(update={"sessions_dir": sessions_dir})
    return settings


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


# -- services ----------------------------------------------------------------------------------
def _loopback_port(url: str) -> int | None:
    parsed = urlparse(url)
    if parsed.hostname in ("127.0.0.1", "localhost", "::1") and parsed.port:
        return parsed.port
    return None


@app.command()
@handle_errors
def up(
    offline: bool = typer.Option(False, "--offline", help="Force the offline profile even if weights or keys are configured"),
    port_base: int | None = typer.Option(
        None, help="Ports port_base..+3 [default: the ports of FASHIONEDIT_<SERVICE>_URL, else 3001-3004]"
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 exposes the services to the network)"),
    run_dir: Path | None = typer.Option(None, help="Where logs go [default: ./fashionedit-runs/<timestamp>]"),
    service: list[str] | None = typer.Option(None, "--service", help="Start only these (repeatable)"),
    startup_timeout: float = typer.Option(600.0, help="Seconds to wait for each model to load"),
) -> None:
    """Start the four services locally (one `bentoml serve` each), wait until ready, stop cleanly on Ctrl-C."""
    settings = ClientSettings()
    names = service or list(SERVICES)
    ports: dict[str, int] = {}
    for offset, name in enumerate(SERVICES):
        ports[name] = port_base + offset if port_base else (_loopback_port(settings.urls(name)[0]) or 3001 + offset)
    run_dir = run_dir or Path("fashionedit-runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    stack = LocalServices(run_dir, services=names, ports=ports, host=host, offline=offline, startup_timeout_s=startup_timeout)
    console.print(f"starting {', '.join(names)}; logs in {stack.run_dir}")
    console.print(describe_profiles(stack.profiles()))

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        start_services(console, stack)
        client = FashionEditClient(_urls_settings(settings, stack.urls()))
        print_services(console, client)
        for started, url in stack.urls().items():
            if url != settings.urls(started)[0]:
                console.print(f"export FASHIONEDIT_{started.upper()}_URL={url}")
        console.print("[green]all services ready[/]; Ctrl-C stops them")
        watch_services(stack)
    except KeyboardInterrupt:
        console.print("stopping services ...")
    finally:
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
    console.print("stopped")


def watch_services(stack: LocalServices, interval_s: float = 1.0) -> None:
    """Until Ctrl-C: report each service that exits, keep the others serving; exit 1 when none is left."""
    reported: set[str] = set()
    while True:
        alive = stack.alive()
        for name in [n for n, up in alive.items() if not up and n not in reported]:
            reported.add(name)
            process = stack.processes[name]
            code = process.proc.returncode if process.proc is not None else None
            still = [n for n, up in alive.items() if up]
            err_console.print(
                f"[red]the {name} exited (code {code}); log: {process.log_path}[/]"
                + (f"\n{', '.join(still)} keep running; Ctrl-C stops them" if still else "")
            )
        if not any(alive.values()):
            err_console.print("no service is left running")
            raise typer.Exit(1)
        time.sleep(interval_s)


def _urls_settings(settings: ClientSettings, urls: dict[str, str]) -> ClientSettings:
    return settings.model_copy(update={f"{name}_url": [url] for name, url in urls.items()})


@app.command()
@handle_errors
def status() -> None:
    """Show which services answer at the configured URLs, and with which backend and model."""
    with FashionEditClient() as client:
        print_services(console, client)


# -- sessions ------------------------------------------------------------------------------------
def _designs(settings: ClientSettings, progress: Any = None) -> DesignSessions:
    return DesignSessions(SessionStore(settings.sessions_dir), FashionEditClient(settings), progress=progress)


def run_script_rounds(designs: DesignSessions, session: Session, rounds: list[ScriptRound]) -> Session:
    for item in rounds:
        session = designs.add_round(
            session,
            item.instruction,
            references=item.references,
            target_box=item.target_box,
            suggestion=item.suggestion,
            seed=item.seed,
        )
    return session


def _ask_pick(store: SessionStore, session: Session) -> int | None:
    for number, candidate in enumerate(session.draft.candidates):
        console.print(f"  candidate {number}: {store.image_path(session, candidate.image)}")
    answer = typer.prompt("Pick a candidate (number, empty to decide later)", default="", show_default=False)
    return int(answer) if answer.strip() else None


def _interactive_rounds(designs: DesignSessions, session: Session) -> Session:
    console.print("Enter rounds. Empty instruction stops. 's N' applies suggestion N of the last round.")
    while True:
        text = typer.prompt("instruction", default="", show_default=False).strip()
        if not text:
            return session
        if text.lower().startswith("s ") and text[2:].strip().isdigit():
            session = designs.add_round(session, suggestion=int(text[2:].strip()))
        else:
            refs = typer.prompt("reference image files (comma-separated, empty for text only)", default="", show_default=False)
            box = typer.prompt("target box ymin,xmin,ymax,xmax on 0-1000 (empty for none)", default="", show_default=False)
            references = [Path(p.strip()) for p in refs.split(",") if p.strip()]
            session = designs.add_round(session, text, references=references, target_box=box.strip() or None)
        print_session(console, designs.store, session)


@session_app.command("new")
@handle_errors
def session_new(
    prompt: str | None = typer.Argument(None, help="The customer's description (asked for when omitted)"),
    candidates: int = typer.Option(1, "--candidates", "-n", min=1, max=8, help="Draft candidates to choose from"),
    pick: int | None = typer.Option(None, help="Pick this candidate without asking"),
    target: Path | None = typer.Option(None, help="Inspiration/target image: scores each round and proposes next edits"),
    seed: int | None = typer.Option(None, help="Generator seed"),
    size: int = typer.Option(1024, help="Draft width and height (multiple of 16)"),
    name: str | None = typer.Option(None, help="A name to find the session by"),
    script: Path | None = typer.Option(None, "--script", help="YAML/JSON session script (prompt, options, rounds)"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Start a design session: generate the draft (and, with --script, run its rounds)."""
    settings = _settings(sessions_dir)
    plan = load_script(script) if script else SessionScript()
    prompt = prompt or plan.prompt
    if not prompt:
        if not _interactive():
            raise ValueError("give a prompt (argument or `prompt:` in --script)")
        prompt = typer.prompt("Describe the design")
    n = candidates if candidates != 1 or script is None else plan.candidates
    width, height = (size, size) if size != 1024 or script is None else plan.dimensions
    chosen = pick if pick is not None else plan.pick
    if chosen is None and script is not None:
        chosen = 0  # a script runs unattended
    with RichProgressBar(console) as progress:
        designs = _designs(settings, progress)
        session = designs.start(
            prompt,
            candidates=n,
            pick=chosen,
            target=target or plan.target,
            seed=seed if seed is not None else plan.seed,
            width=width,
            height=height,
            name=name or plan.name,
            negative_prompt=plan.negative_prompt,
            steps=plan.steps,
            guidance_scale=plan.guidance_scale,
            analyze_k=plan.analyze_k,
        )
    if session.draft.chosen is None and _interactive():
        choice = _ask_pick(designs.store, session)
        if choice is not None:
            with RichProgressBar(console) as progress:
                designs.progress = progress
                session = designs.pick(session, choice)
    if plan.rounds:
        with RichProgressBar(console) as progress:
            designs.progress = progress
            session = run_script_rounds(designs, session, plan.rounds)
    print_session(console, designs.store, session)
    console.print(f"session [bold]{session.id}[/] in {designs.store.folder(session.id)}")


BoxHelp = "Target box [ymin, xmin, ymax, xmax] on 0-1000: '100,200,300,400', '100 200 300 400' or '[100, 200, 300, 400]'"


@contextmanager
def _editing(designs: DesignSessions, session_ref: str) -> Iterator[Session]:
    """Hold the session's lock and load it inside the lock (what another process saved before is seen).

    When a round fails, the session is shown, with how to retry or drop that round, before the error.
    """
    session_id = designs.store.resolve(session_ref)
    with designs.store.lock(session_id):
        try:
            yield designs.store.load(session_id)
        except FashionEditError:
            current = designs.store.load(session_id)
            if current.blocking_round() is not None or current.draft.error:
                print_session(console, designs.store, current)
            raise


@session_app.command("round")
@handle_errors
def session_round(
    session_ref: str = typer.Argument(..., metavar="SESSION", help="Session id, id prefix, name, or 'latest'"),
    instruction: str | None = typer.Option(None, "--instruction", "-i", help="What to change (asked for when omitted)"),
    ref: list[Path] | None = typer.Option(None, "--ref", "-r", help="Reference image file (repeatable): image-into-prompt"),
    box: str | None = typer.Option(None, help=BoxHelp),
    suggestion: int | None = typer.Option(None, "--suggestion", "-s", help="Apply the analyzer's proposed edit N"),
    seed: int | None = typer.Option(None),
    replace: bool = typer.Option(False, "--replace", help="Put this round in place of a failed or pending last round"),
    script: Path | None = typer.Option(None, "--script", help="YAML/JSON list of rounds"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Edit the current design: text only (text-as-prompt) or text + reference images (image-into-prompt).

    A failed or pending round is never re-run here: retry, drop or undo it, or pass --replace.
    """
    settings = _settings(sessions_dir)
    with RichProgressBar(console) as progress:
        designs = _designs(settings, progress)
        with _editing(designs, session_ref) as session:
            if script is not None:
                session = run_script_rounds(designs, session, load_script(script).rounds)
            elif instruction or suggestion is not None:
                session = designs.add_round(
                    session, instruction, references=ref or [], target_box=box, suggestion=suggestion, seed=seed, replace=replace
                )
    if script is None and not instruction and suggestion is None:
        if not _interactive():
            raise ValueError("give --instruction, --suggestion or --script (or run in a terminal to be asked)")
        with designs.store.lock(session.id):
            session = _interactive_rounds(designs, designs.store.load(session.id))
    print_session(console, designs.store, session)


@session_app.command("retry")
@handle_errors
def session_retry(
    session_ref: str = typer.Argument(..., metavar="SESSION"),
    number: int = typer.Argument(..., metavar="N", help="The round to run again (see `session show`)"),
    instruction: str | None = typer.Option(None, "--instruction", "-i", help="A new instruction in place of the old one"),
    ref: list[Path] | None = typer.Option(None, "--ref", "-r", help="New reference image(s) in place of the old ones"),
    no_refs: bool = typer.Option(False, "--no-refs", help="Run it without references (text-as-prompt)"),
    box: str | None = typer.Option(None, help=BoxHelp + "; 'none' removes the box"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Run a failed or pending round (or the last round, e.g. a no-op) again, as it was or with new input."""
    settings = _settings(sessions_dir)
    references = [] if no_refs else (ref or None)
    with RichProgressBar(console) as progress:
        designs = _designs(settings, progress)
        with _editing(designs, session_ref) as session:
            session = designs.retry_round(session, number, instruction=instruction, references=references, box=box)
    print_session(console, designs.store, session)


@session_app.command("drop")
@handle_errors
def session_drop(
    session_ref: str = typer.Argument(..., metavar="SESSION"),
    number: int = typer.Argument(..., metavar="N", help="The round to remove: a failed or pending one, or the last"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Remove a failed or pending round, or the last round (its image files stay on disk)."""
    designs = _designs(_settings(sessions_dir), None)
    with _editing(designs, session_ref) as session:
        session = designs.drop_round(session, number)
    print_session(console, designs.store, session)
    console.print(f"dropped round {number}")


@session_app.command("undo")
@handle_errors
def session_undo(
    session_ref: str = typer.Argument(..., metavar="SESSION"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Remove the last round, whatever its state; the design goes back to the round before."""
    designs = _designs(_settings(sessions_dir), None)
    with _editing(designs, session_ref) as session:
        removed = len(session.rounds)
        session = designs.undo(session)
    print_session(console, designs.store, session)
    console.print(f"undid round {removed}")


@session_app.command("resume")
@handle_errors
def session_resume(
    session_ref: str = typer.Argument("latest", metavar="SESSION"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Finish whatever a session left undone (after a crash, Ctrl-C or a service error); nothing done is redone."""
    settings = _settings(sessions_dir)
    with RichProgressBar(console) as progress:
        designs = _designs(settings, progress)
        with _editing(designs, session_ref) as session:
            session = designs.resume(session)
    print_session(console, designs.store, session)


@session_app.command("pick")
@handle_errors
def session_pick(
    session_ref: str = typer.Argument(..., metavar="SESSION"),
    candidate: int = typer.Argument(..., help="Candidate number (see `session show`)"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Pick the draft candidate the rounds will edit."""
    settings = _settings(sessions_dir)
    with RichProgressBar(console) as progress:
        designs = _designs(settings, progress)
        with _editing(designs, session_ref) as session:
            session = designs.pick(session, candidate)
    print_session(console, designs.store, session)


@session_app.command("target")
@handle_errors
def session_target(
    session_ref: str = typer.Argument(..., metavar="SESSION"),
    image: Path = typer.Argument(..., help="Inspiration/target image file"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Set the inspiration/target image; every step is scored against it and next edits are proposed."""
    settings = _settings(sessions_dir)
    with RichProgressBar(console) as progress:
        designs = _designs(settings, progress)
        with _editing(designs, session_ref) as session:
            session = designs.set_target(session, image)
    print_session(console, designs.store, session)


@session_app.command("show")
@handle_errors
def session_show(
    session_ref: str = typer.Argument("latest", metavar="SESSION"),
    json_out: bool = typer.Option(False, "--json", help="Print the session JSON"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Show a session's rounds, scores and proposed next edits."""
    store = SessionStore(_settings(sessions_dir).sessions_dir)
    session = store.load(session_ref)
    if json_out:
        sys.stdout.write(session.model_dump_json(indent=2) + "\n")
        return
    print_session(console, store, session)


@session_app.command("list")
@handle_errors
def session_list(sessions_dir: Path | None = DirOption) -> None:
    """List sessions (oldest first)."""
    store = SessionStore(_settings(sessions_dir).sessions_dir)
    summaries = store.list()
    if not summaries:
        console.print(f"no sessions in {store.root}")
        return
    print_summaries(console, summaries)


@session_app.command("branch")
@handle_errors
def session_branch(
    session_ref: str = typer.Argument(..., metavar="SESSION"),
    at_round: int = typer.Option(..., "--round", help="Keep the draft and rounds 1..N (0: the draft only)"),
    name: str | None = typer.Option(None),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Start a new session from any round of an existing one; new rounds continue from there."""
    store = SessionStore(_settings(sessions_dir).sessions_dir)
    child = store.branch(session_ref, at_round, name=name)
    print_session(console, store, child)
    console.print(f"branched: new session [bold]{child.id}[/]")


@session_app.command("export")
@handle_errors
def session_export(
    session_ref: str = typer.Argument("latest", metavar="SESSION"),
    out: Path | None = typer.Option(None, "--out", "-o", help="HTML file [default: <session folder>/session.html]"),
    images: str = typer.Option("inline", help="'inline' (one self-contained file) or 'files' (images copied beside it)"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Write the session as an HTML page: each round's images, instruction, references and scores."""
    if images not in ("inline", "files"):
        raise ValueError("--images is 'inline' or 'files'")
    store = SessionStore(_settings(sessions_dir).sessions_dir)
    session = store.load(session_ref)
    path = export_html(store, session, out or store.folder(session.id) / "session.html", images=images)  # type: ignore[arg-type]
    label = f" ({OFFLINE_LABEL})" if session.offline else ""
    console.print(f"wrote {path}{label}")


@app.command()
@handle_errors
def studio(
    host: str = typer.Option(
        "127.0.0.1", envvar="FASHIONEDIT_STUDIO_HOST", help="Interface to bind (0.0.0.0 exposes the studio)"
    ),
    port: int = typer.Option(3000, envvar="FASHIONEDIT_STUDIO_PORT", help="Port of the studio's page"),
    sessions_dir: Path | None = DirOption,
) -> None:
    """Open the design studio: a web page (default http://127.0.0.1:3000) over the same sessions as `fashionedit session`."""
    from .studio import serve

    console.print(f"studio on http://{host}:{port} · sessions in {_settings(sessions_dir).sessions_dir}")
    serve(_settings(sessions_dir), host=host, port=port)


# -- the main job ------------------------------------------------------------------------------------
@app.command()
@handle_errors
def demo(
    out: Path = typer.Option(
        Path("fashionedit-demo"), "--out", "-o", help="Folder for the session, the HTML page and service logs"
    ),
    size: int = typer.Option(512, help="Design size in pixels (multiple of 16)"),
    offline: bool = typer.Option(
        False, "--offline", help="Start missing services on the offline profile even if weights/keys are set"
    ),
    keep_services: bool = typer.Option(False, help="Leave services this command started running (Ctrl-C stops them)"),
    startup_timeout: float = typer.Option(600.0, help="Seconds to wait for services to load"),
) -> None:
    """Run a complete design session end to end and write its HTML page.

    Uses the services at the configured URLs when they are up; otherwise starts them here (offline profile
    unless weights/keys are configured). Draft, a text-as-prompt round, an image-into-prompt round from a
    bundled reference, another text-as-prompt round; each step scored and analysed against a bundled target.
    """
    from .demo import run_demo

    result = run_demo(
        out, size=size, offline=offline, keep_services=keep_services, startup_timeout_s=startup_timeout, console=console
    )
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    app()


if __name__ == "__main__":
    main()
