"""`fashionedit demo`: the main job. A complete design session, end to end, on whatever services are configured.

1. Services: the ones answering at the configured URLs are used; any that are not are started here
   (``bentoml serve``, logs under ``<out>/services/``), on the offline profile unless weights/keys are
   configured in the environment (see docs/client.md).
2. Session (``<out>/sessions/``): a draft from a prompt (two candidates, the first picked), a text-as-prompt
   round, an image-into-prompt round with the bundled reference image, then another text-as-prompt round on
   its result; each step scored against the bundled target image and analysed for the next edits. A round
   that fails stops the demo (exit 1) after the page is written, showing the failed round and why.
3. ``<out>/session.html``: the self-contained page. Every result shown says "offline profile" when a
   service answered from its offline backend.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .bundle import FashionEditClient
from .common.progress import RichProgressBar
from .design import DesignSessions
from .errors import FashionEditError
from .export import export_html
from .local import LocalServices, _loopback_free_port, missing_services
from .script import SessionScript, load_script
from .session import OFFLINE_LABEL, Session, SessionStore
from .settings import SERVICES, ClientSettings
from .views import describe_profiles, print_services, print_session, start_services


@dataclass
class DemoResult:
    ok: bool
    html: Path | None
    session: Session | None
    offline: bool
    started: list[str]


def demo_script() -> SessionScript:
    """The bundled demo session (prompt, rounds), with its image paths resolved inside the package."""
    data = resources.files("fashionedit.client") / "data" / "demo.yaml"
    return load_script(Path(str(data)))


def _not_ready(settings: ClientSettings) -> list[str]:
    quick = settings.model_copy(update={"info_timeout_s": 2.0, "connect_timeout_s": 1.0})
    with FashionEditClient(quick) as client:
        return [name for name, ready in client.ready().items() if not ready]


def run_demo(
    out: str | Path,
    *,
    size: int = 512,
    offline: bool = False,
    keep_services: bool = False,
    startup_timeout_s: float = 600.0,
    console: Console | None = None,
    settings: ClientSettings | None = None,
) -> DemoResult:
    console = console or Console()
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    settings = settings or ClientSettings()
    settings = settings.model_copy(update={"sessions_dir": out / "sessions"})

    to_start = _not_ready(settings)
    stack: LocalServices | None = None
    if to_start:
        absent = missing_services(to_start)
        if absent:
            raise FashionEditError(
                f"no {', '.join(absent)} answers at {', '.join(settings.urls(a)[0] for a in absent)} and its distribution is not "
                "installed here to start it; run `bash scripts/setup.sh` or point FASHIONEDIT_<SERVICE>_URL at a running one"
            )
        ports = {name: _loopback_free_port(settings.urls(name)[0]) for name in to_start}
        stack = LocalServices(
            out / "services", services=to_start, ports=ports, offline=offline, startup_timeout_s=startup_timeout_s
        )
        console.print(f"starting {', '.join(to_start)} here; logs in {stack.run_dir}")
        console.print(describe_profiles(stack.profiles()))
        start_services(console, stack)
        settings = settings.model_copy(update={f"{name}_url": [url] for name, url in stack.urls().items()})
    else:
        console.print("using the services at " + ", ".join(settings.urls(name)[0] for name in SERVICES))

    try:
        client = FashionEditClient(settings)
        print_services(console, client)

        plan = demo_script()
        store = SessionStore(settings.sessions_dir)
        with RichProgressBar(console) as progress:
            designs = DesignSessions(store, client, progress=progress)
            session = designs.start(
                plan.prompt or "",
                candidates=plan.candidates,
                pick=plan.pick if plan.pick is not None else 0,
                target=plan.target,
                seed=plan.seed,
                width=size,
                height=size,
                name=plan.name,
                analyze_k=plan.analyze_k,
            )
            failure: FashionEditError | None = None
            for item in plan.rounds:
                try:
                    session = designs.add_round(
                        session,
                        item.instruction,
                        references=item.references,
                        target_box=item.target_box,
                        suggestion=item.suggestion,
                        seed=item.seed,
                    )
                except FashionEditError as exc:
                    # The page still shows what was made, and the failed round with its reason.
                    failure, session = exc, store.load(session.id)
                    break
        html = export_html(store, session, out / "session.html")
        print_session(console, store, session)
        if failure is not None:
            console.print(f"[bold red]the demo stopped at a failed round[/]: {escape(str(failure))}")
        if session.offline:
            console.print(
                f"[bold yellow]{OFFLINE_LABEL}[/]: flats generator, local editor, classical analyzer, scorer without CLIP; "
                "configure weights and keys (docs/client.md) to run SD3, OpenAI and CLIP"
            )
        console.print(f"HTML page: {html}" + (f" ({OFFLINE_LABEL})" if session.offline else ""))
        if stack is not None and keep_services:
            console.print("services keep running; Ctrl-C stops them")
            try:
                while all(stack.alive().values()):
                    time.sleep(1.0)
            except KeyboardInterrupt:
                pass
        return DemoResult(ok=failure is None, html=html, session=session, offline=session.offline, started=to_start)
    finally:
        if stack is not None:
            stack.stop()
