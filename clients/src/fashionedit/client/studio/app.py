"""The studio's HTTP face: one page, JSON routes over :class:`DesignSessions`, the session store's files.

Every step that calls a service runs as a job (``jobs.py``) and answers ``202 {"job": ...}`` at once; the
page polls ``GET /api/jobs/{id}``. What can be checked without a service (the instruction, the box, the
uploaded images, the session's state) is checked before the job starts and refused with the services'
error shape, so bad input never leaves anything half-done.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, overload

from pydantic import TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from fashionedit.contracts import Box2D, ErrorResponse
from fashionedit.contracts.common import ErrorCode
from fashionedit.contracts.generate import Prompt

from ..bundle import FashionEditClient
from ..design import CLEAR_BOX, SessionStateError
from ..errors import FashionEditError
from ..export import render_html
from ..session import OFFLINE_LABEL, Session, SessionLocked, SessionNotFound, SessionStore
from ..settings import SERVICES, ClientSettings
from .jobs import Jobs, SessionBusy, error_message
from .uploads import UnknownUpload, Uploads

log = logging.getLogger("fashionedit.studio")

TOKEN_COOKIE = "fashionedit_token"
PUBLIC_PATHS = {"/", "/livez", "/readyz", "/api/login"}
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # the contracts' default cap on one encoded image
STATIC = resources.files("fashionedit.client.studio") / "static"


class StudioError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: ErrorCode, message: str) -> JSONResponse:
    body = ErrorResponse.make(status, code, message)
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status_code=status)


class BearerAuth:
    """The services' optional bearer token: ``Authorization: Bearer <token>``, or the cookie the page's sign-in sets."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.token or scope["path"] in PUBLIC_PATHS or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        header = request.headers.get("authorization", "")
        offered = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE, "")
        if offered and hmac.compare_digest(offered.encode(), self.token.encode()):
            await self.app(scope, receive, send)
            return
        response = _error(
            401,
            "unauthorized",
            "this studio needs its access token (FASHIONEDIT_API_TOKEN): sign in on the page, "
            "or send 'Authorization: Bearer <token>'",
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)


class Studio:
    """State shared by the routes: the store, the uploads, the jobs, the service client."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self.store = SessionStore(settings.sessions_dir)
        self.uploads = Uploads(self.store.root)
        self.uploads.prune()
        self.client = FashionEditClient(settings)
        # Service status on the page: one quick try, so a service that is down shows at once.
        self.probe = FashionEditClient(
            settings.model_copy(update={"max_attempts": 1, "info_timeout_s": 3.0, "connect_timeout_s": 2.0})
        )
        self.jobs = Jobs(self.store, self.client)

    def close(self) -> None:
        self.jobs.shutdown()
        self.client.close()
        self.probe.close()

    # -- reading ---------------------------------------------------------------------------
    def load(self, ref: str) -> Session:
        return self.store.load(ref)

    def session_view(self, session: Session) -> dict[str, Any]:
        job = self.jobs.running_for(session.id)
        steps = [{"index": 0, "label": "draft", "image": _image(session.chosen_image())}]
        steps += [
            {"index": r.index, "label": f"round {r.index}", "image": _image(session.step_image(r.index))} for r in session.rounds
        ]
        blocking = session.blocking_round()
        return {
            "session": session.model_dump(mode="json"),
            "round_states": [r.state for r in session.rounds],  # "no-op" for a finished edit that changed nothing
            "blocking_round": blocking.index if blocking else None,
            "steps": steps,
            "completed": session.completed_rounds(),
            "pending": session.pending,
            "offline": session.offline,
            "offline_label": OFFLINE_LABEL,
            "random_weights": session.random_weights,
            "job": job.view() if job else None,
        }

    def services_view(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SERVICES:
            service = getattr(self.probe, name)
            try:
                info = service.info()
                out[name] = {
                    "url": service.urls[0],
                    "ready": info.ready,
                    "model": info.model.model_dump(mode="json") if info.model else None,
                    "message": info.message,
                }
            except FashionEditError as exc:
                out[name] = {"url": service.urls[0], "ready": False, "model": None, "message": error_message(exc)}
        return out

    # -- checks made before a job starts -----------------------------------------------------
    def references(self, ids: list[str]) -> list[Path]:
        return [self.uploads.get(upload_id).path for upload_id in ids]

    def session_image(self, session: Session, relative: str) -> Path:
        """A file of the session by its stored path (``images/...``), never outside the session folder."""
        folder = self.store.folder(session.id).resolve()
        path = (folder / relative).resolve()
        if folder not in path.parents or not path.is_file():
            raise SessionNotFound(f"session {session.id} has no image {relative!r}")
        return path


def _image(image: Any) -> dict[str, Any] | None:
    return image.model_dump(mode="json") if image is not None else None


def _box(value: Any) -> Box2D | None:
    if value in (None, "", []):
        return None
    try:
        return Box2D.model_validate(value)
    except ValidationError as exc:
        raise StudioError(
            422, "invalid_request", f"target box: {error_message(exc).removeprefix('value: ').removeprefix('Value error, ')}"
        ) from None


def _instruction(value: Any, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise StudioError(422, "invalid_request", "write an instruction: what should change in the design?")
        return None
    try:
        return TypeAdapter(Prompt).validate_python(value).strip()
    except ValidationError as exc:
        raise StudioError(422, "invalid_request", f"instruction: {error_message(exc).removeprefix('value: ')}") from None


@overload
def _int(body: dict[str, Any], key: str, default: int, *, low: int | None = None, high: int | None = None) -> int: ...
@overload
def _int(
    body: dict[str, Any], key: str, default: None = None, *, low: int | None = None, high: int | None = None
) -> int | None: ...
def _int(
    body: dict[str, Any], key: str, default: int | None = None, *, low: int | None = None, high: int | None = None
) -> int | None:
    """``body[key]`` as a whole number within ``[low, high]``; ``default`` when absent or empty; else a clear 422."""
    value = body.get(key, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StudioError(422, "invalid_request", f"{key} must be a whole number, not {value!r}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise StudioError(422, "invalid_request", f"{key} must be between {low} and {high}")
    return number


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise StudioError(422, "invalid_request", "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise StudioError(422, "invalid_request", "the request body must be a JSON object")
    return body


Handler = Callable[[Request], Awaitable[Response]]


def build_app(settings: ClientSettings | None = None) -> Starlette:
    """The studio as an ASGI app (``uvicorn`` serves it; tests may call it in-process)."""
    settings = settings or ClientSettings()
    studio = Studio(settings)

    def job_response(job: Any) -> JSONResponse:
        return JSONResponse({"job": job.view()}, status_code=202)

    # -- pages and health ---------------------------------------------------------------------
    async def index(request: Request) -> Response:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    async def livez(request: Request) -> Response:
        return JSONResponse({"status": "ok", "service": "studio"})

    async def readyz(request: Request) -> Response:
        try:
            studio.store.root.mkdir(parents=True, exist_ok=True)
            probe = studio.store.root / ".studio-ready"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            return _error(503, "not_ready", f"the sessions folder is not writable: {exc.strerror}")
        return JSONResponse({"status": "ok", "service": "studio"})

    async def login(request: Request) -> Response:
        body = await _body(request)
        token = str(body.get("token", ""))
        expected = settings.token()
        if expected and not hmac.compare_digest(token.encode(), expected.encode()):
            return _error(401, "unauthorized", "that is not this studio's access token")
        response = JSONResponse({"ok": True})
        if expected:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    async def info(request: Request) -> Response:
        services = await run_in_threadpool(studio.services_view)
        offline = any((s.get("model") or {}).get("offline") for s in services.values())
        return JSONResponse(
            {
                "services": services,
                "offline": offline,
                "offline_label": OFFLINE_LABEL,
                "sessions_dir": str(studio.store.root),
                "auth": bool(settings.token()),
            }
        )

    # -- sessions -------------------------------------------------------------------------------
    async def list_sessions(request: Request) -> Response:
        summaries = await run_in_threadpool(studio.store.list)
        return JSONResponse({"sessions": [s.model_dump(mode="json") for s in reversed(summaries)]})

    async def get_session(request: Request) -> Response:
        session = await run_in_threadpool(studio.load, request.path_params["session_id"])
        return JSONResponse(studio.session_view(session))

    async def create_session(request: Request) -> Response:
        body = await _body(request)
        prompt = _instruction(body.get("prompt"), required=False)
        if prompt is None:
            raise StudioError(422, "invalid_request", "describe the garment first: the description is the draft's prompt")
        candidates = _int(body, "candidates", 1, low=1, high=8)
        size = _int(body, "size", 512, low=64, high=2048)
        seed = _int(body, "seed", None, low=0, high=2**32 - 1)
        target = studio.uploads.get(body["target"]).path if body.get("target") else None
        name = str(body.get("name") or "").strip() or None
        designs = studio.jobs.designs()
        session = await run_in_threadpool(
            lambda: designs.start(
                prompt,
                candidates=candidates,
                pick=0 if candidates == 1 else None,
                target=target,
                seed=seed,
                width=size,
                height=size,
                name=name,
                run=False,
            )
        )
        job = studio.jobs.submit("start", session.id, lambda d: d.resume(d.store.load(session.id)))
        return JSONResponse({"session_id": session.id, "job": job.view()}, status_code=202)

    def session_job(kind: str, prepare: Callable[[Session, dict[str, Any]], Callable[[Any], Session]]) -> Handler:
        """A route that checks its input against the loaded session, then runs the returned step as a job."""

        async def handler(request: Request) -> Response:
            body = await _body(request) if request.method in ("POST", "PUT") else {}
            session = await run_in_threadpool(studio.load, request.path_params["session_id"])
            studio.jobs.check_idle(session.id)
            step = await run_in_threadpool(prepare, session, {**body, **request.path_params})  # may copy uploads into the session
            job = studio.jobs.submit(kind, session.id, lambda d: step(d))
            return job_response(job)

        return handler

    def prepare_pick(session: Session, body: dict[str, Any]) -> Callable[[Any], Session]:
        index = _int(body, "index", low=0, high=max(0, len(session.draft.candidates) - 1))
        if index is None:
            raise StudioError(422, "invalid_request", "say which candidate to pick")
        return lambda d: d.pick(d.store.load(session.id), index)

    def prepare_target(session: Session, body: dict[str, Any]) -> Callable[[Any], Session]:
        if not body.get("upload"):
            raise StudioError(422, "invalid_request", "upload the target image first")
        path = studio.uploads.get(str(body["upload"])).path
        return lambda d: d.set_target(d.store.load(session.id), path)

    def prepare_round(session: Session, body: dict[str, Any]) -> Callable[[Any], Session]:
        if session.draft.chosen is None:
            raise SessionStateError("pick a draft first: the rounds edit the picked draft")
        suggestion = _int(body, "suggestion", None, low=1)
        instruction = _instruction(body.get("instruction"), required=suggestion is None)
        box = _box(body.get("box"))
        references = studio.references([str(r) for r in body.get("references") or []])
        if suggestion is not None:
            chosen = _suggestion(session, suggestion)
            keep_crop = bool(body.get("suggestion_crop")) and chosen.crop is not None
            if keep_crop and references:
                # The crop next to uploads: the engine copies it from the session's own file like any reference.
                references.insert(0, studio.session_image(session, chosen.crop.path))
            elif not keep_crop and not references:
                # The crop was removed and nothing replaces it: a text round in the suggestion's words and box.
                instruction, box, suggestion = instruction or chosen.description, box or chosen.box_2d, None
        seed = _int(body, "seed", None, low=0, high=2**32 - 1)
        designs = studio.jobs.designs()
        queued = designs.add_round(
            session,
            instruction,
            references=references,
            target_box=box,
            suggestion=suggestion,
            seed=seed,
            run=False,
            replace=bool(body.get("replace")),
        )
        return lambda d: d.resume(d.store.load(queued.id))

    def prepare_resume(session: Session, body: dict[str, Any]) -> Callable[[Any], Session]:
        return lambda d: d.resume(d.store.load(session.id))

    def prepare_retry(session: Session, body: dict[str, Any]) -> Callable[[Any], Session]:
        """Run a round again, as it was or edited: a new instruction, references (kept ones by their stored path), box."""
        number = _int(body, "number", low=1, high=max(1, len(session.rounds)))
        assert number is not None
        instruction = _instruction(body.get("instruction"), required=False) if "instruction" in body else None
        box: Box2D | str | None = None
        if body.get("clear_box"):
            box = CLEAR_BOX
        elif body.get("box") not in (None, "", []):
            box = _box(body.get("box"))
        references: list[Path] | None = None
        if "references" in body or "keep_references" in body:
            kept = [studio.session_image(session, str(path)) for path in body.get("keep_references") or []]
            references = kept + studio.references([str(r) for r in body.get("references") or []])
        return lambda d: d.retry_round(d.store.load(session.id), number, instruction=instruction, references=references, box=box)

    async def drop_round(request: Request) -> Response:
        session = await run_in_threadpool(studio.load, request.path_params["session_id"])
        studio.jobs.check_idle(session.id)
        number = _int(dict(request.path_params), "number", low=1)
        assert number is not None
        dropped = await run_in_threadpool(studio.jobs.designs().drop_round, session, number)
        return JSONResponse(studio.session_view(dropped))

    async def undo(request: Request) -> Response:
        session = await run_in_threadpool(studio.load, request.path_params["session_id"])
        studio.jobs.check_idle(session.id)
        undone = await run_in_threadpool(studio.jobs.designs().undo, session)
        return JSONResponse(studio.session_view(undone))

    async def branch(request: Request) -> Response:
        body = await _body(request)
        session_id = request.path_params["session_id"]
        at_round = _int(body, "round", low=0)
        if at_round is None:
            raise StudioError(422, "invalid_request", "say which round to branch from (0: the draft)")
        name = str(body.get("name") or "").strip() or None
        child = await run_in_threadpool(studio.store.branch, session_id, at_round, name=name)
        return JSONResponse({"session_id": child.id}, status_code=201)

    async def session_file(request: Request) -> Response:
        session = await run_in_threadpool(studio.load, request.path_params["session_id"])
        path = studio.session_image(session, request.path_params["path"])
        return FileResponse(path, headers={"Cache-Control": "private, max-age=31536000, immutable"})

    async def export(request: Request) -> Response:
        session = await run_in_threadpool(studio.load, request.path_params["session_id"])
        out = studio.store.folder(session.id) / "session.html"
        page = await run_in_threadpool(render_html, studio.store, session, out)
        filename = f"fashionedit-{session.id}.html"
        return HTMLResponse(page, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    # -- uploads and jobs -------------------------------------------------------------------------
    async def upload(request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=4)
        try:
            item = form.get("file")
            if item is None or isinstance(item, str):
                raise StudioError(422, "invalid_request", "send the image as the form field 'file'")
            data = await item.read(MAX_UPLOAD_BYTES + 1)
            if len(data) > MAX_UPLOAD_BYTES:
                raise StudioError(
                    413,
                    "payload_too_large",
                    f"{item.filename} is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; send a smaller image",
                )
            try:
                stored = await run_in_threadpool(studio.uploads.add, item.filename or "upload", data)
            except ValidationError as exc:
                reason = error_message(exc).removeprefix("value: ").removeprefix("Value error, ")
                raise StudioError(
                    422, "invalid_request", f"{item.filename} is not an image the services accept: {reason}"
                ) from None
        finally:
            await form.close()
        return JSONResponse({"upload": stored.view()}, status_code=201)

    async def upload_file(request: Request) -> Response:
        stored = studio.uploads.get(request.path_params["upload_id"])
        return FileResponse(stored.path)

    async def get_job(request: Request) -> Response:
        job = studio.jobs.get(request.path_params["job_id"])
        if job is None:
            return _error(404, "not_found", "no such job in this studio (it may have restarted); reload the session")
        return JSONResponse({"job": job.view()})

    routes = [
        Route("/", index),
        Route("/livez", livez),
        Route("/readyz", readyz),
        Route("/api/login", login, methods=["POST"]),
        Route("/api/info", info),
        Route("/api/sessions", list_sessions),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route("/api/sessions/{session_id}", get_session),
        Route("/api/sessions/{session_id}/pick", session_job("pick", prepare_pick), methods=["POST"]),
        Route("/api/sessions/{session_id}/target", session_job("target", prepare_target), methods=["POST"]),
        Route("/api/sessions/{session_id}/rounds", session_job("round", prepare_round), methods=["POST"]),
        Route("/api/sessions/{session_id}/resume", session_job("resume", prepare_resume), methods=["POST"]),
        Route("/api/sessions/{session_id}/rounds/{number:int}/retry", session_job("retry", prepare_retry), methods=["POST"]),
        Route("/api/sessions/{session_id}/rounds/{number:int}", drop_round, methods=["DELETE"]),
        Route("/api/sessions/{session_id}/undo", undo, methods=["POST"]),
        Route("/api/sessions/{session_id}/branch", branch, methods=["POST"]),
        Route("/api/sessions/{session_id}/files/{path:path}", session_file),
        Route("/api/sessions/{session_id}/export", export),
        Route("/api/uploads", upload, methods=["POST"]),
        Route("/api/uploads/{upload_id}", upload_file),
        Route("/api/jobs/{job_id}", get_job),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]

    async def studio_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StudioError)
        return _error(exc.status, exc.code, exc.message)

    def mapped(status: int, code: ErrorCode) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handler(request: Request, exc: Exception) -> Response:
            return _error(status, code, error_message(exc))

        return handler

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("studio route %s failed", request.url.path)
        return _error(
            500, "internal_error", f"the studio failed on {request.url.path}: {type(exc).__name__}; see the studio's log"
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        studio.close()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            StudioError: studio_error,
            SessionNotFound: mapped(404, "not_found"),
            UnknownUpload: mapped(404, "not_found"),
            SessionBusy: mapped(409, "invalid_request"),
            SessionLocked: mapped(409, "invalid_request"),
            SessionStateError: mapped(409, "invalid_request"),
            FileExistsError: mapped(409, "invalid_request"),
            ValidationError: mapped(422, "invalid_request"),
            ValueError: mapped(422, "invalid_request"),
            FashionEditError: mapped(502, "upstream_error"),
            Exception: unexpected,
        },
    )
    app.state.studio = studio
    return BearerAuth(app, settings.token())  # type: ignore[return-value]


def _suggestion(session: Session, number: int) -> Any:
    guidance = session.step_guidance(len(session.rounds))
    found = [s for s in (guidance.analysis.suggestions if guidance and guidance.analysis else []) if s.number == number]
    if not found:
        raise SessionStateError(f"the current design has no suggestion {number}; suggestions come from a target image")
    return found[0]


def serve(settings: ClientSettings, *, host: str = "127.0.0.1", port: int = 3000, log_level: str = "info") -> None:
    import uvicorn

    uvicorn.run(build_app(settings), host=host, port=port, log_level=log_level, proxy_headers=False)
