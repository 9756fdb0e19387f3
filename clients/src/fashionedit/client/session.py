"""Design sessions on disk: one folder per session, ``session.json`` plus image files.

Layout::

    <sessions dir>/<session id>/
        session.json            # the Session model below
        images/draft-c0.png     # generator candidates
        images/target.png       # the inspiration / target image (guidance), when given
        images/r1-ref0.png      # round 1's reference images, copied in
        images/r1-out.png       # round 1's edited design
        images/r1-s0.png        # crops of the analyzer's suggestions after round 1

Every file is written atomically (temporary file, fsync, ``os.replace``, fsync of the folder), and
images are written before the JSON that points at them, so a process killed at
any moment leaves the last saved state intact: nothing a service already
returned is lost, and a half-written file is never read back.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fashionedit.contracts import Box2D, EditMode, ImagePayload, MetricStatus, ModelInfo, PairScore, Timings, Usage
from fashionedit.contracts.boxes import Repair
from fashionedit.contracts.files import atomic_write_bytes
from fashionedit.contracts.generate import PromptTruncation

from .common.folder_lock import FolderLocked, hold_folder

SCHEMA_VERSION = 1
OFFLINE_LABEL = "offline profile"


def _now() -> datetime:
    return datetime.now(UTC)


class SessionModel(BaseModel):
    # Unknown fields are kept, not refused: an older client can still read a newer session file.
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class StoredImage(SessionModel):
    path: str = Field(description="Relative to the session folder, '/'-separated")
    sha256: str
    width: int
    height: int
    format: str = "PNG"
    source: str | None = Field(default=None, description="Where a user-supplied image came from")


class Candidate(SessionModel):
    image: StoredImage
    seed: int


class Suggestion(SessionModel):
    """One difference the analyzer found between the design and the target: a proposed next edit."""

    number: int = Field(description="1-based, as the CLI shows it (round --suggestion N)")
    description: str
    box_2d: Box2D
    crop: StoredImage | None = None


class Analysis(SessionModel):
    suggestions: list[Suggestion] = Field(default_factory=list)
    repairs: list[Repair] = Field(default_factory=list)
    model: ModelInfo
    timings: Timings | None = None


class Scores(SessionModel):
    """One design scored against the target."""

    pair: PairScore
    metrics: list[MetricStatus] = Field(default_factory=list)
    psnr_rule: str | None = None
    model: ModelInfo
    timings: Timings | None = None


class Guidance(SessionModel):
    """What the target image says about a design: its scores and the next edits to make."""

    scores: Scores | None = None
    analysis: Analysis | None = None
    errors: list[str] = Field(default_factory=list, description="Guidance steps that failed (the design is kept)")
    warnings: list[str] = Field(
        default_factory=list, description="What the scorer and analyzer reported, e.g. metrics not computed"
    )


class Draft(SessionModel):
    prompt: str
    negative_prompt: str = ""
    seed: int | None = None
    width: int = 1024
    height: int = 1024
    steps: int | None = None
    guidance_scale: float | None = None
    num_candidates: int = 1
    candidates: list[Candidate] = Field(default_factory=list)
    chosen: int | None = Field(default=None, description="Index of the picked candidate")
    model: ModelInfo | None = None
    timings: Timings | None = None
    prompt_truncation: PromptTruncation | None = None
    guidance: Guidance | None = None
    error: str | None = None
    warnings: list[str] = Field(default_factory=list, description="What the generator said it did not apply, and why")


class RoundStatus(str, Enum):
    PENDING = "pending"  # asked for, not yet edited (or interrupted: `resume` or `retry` runs it)
    EDITED = "edited"  # the editor answered and its image is saved; guidance may be missing
    DONE = "done"  # edited and, with a target, scored and analysed; see Round.change for a no-op
    FAILED = "failed"  # the editor refused it (see Round.error); `retry` or `drop` it


# An edit counts as a no-op when fewer than NO_OP_FRACTION of the image's pixels changed (by more than
# PIXEL_TOLERANCE levels in any channel, after resizing the output to the input's size if they differ) and,
# where the round has a box (asked for, or reported by the editor), fewer than NO_OP_BOX_FRACTION of the box's:
# a small detail placed in a small box is a real edit even when it is a tiny share of the image.
NO_OP_FRACTION = 0.001
NO_OP_BOX_FRACTION = 0.01
PIXEL_TOLERANCE = 8


class Change(SessionModel):
    """How much an edit changed its input, measured in the client from the two images."""

    changed_fraction: float = Field(ge=0.0, le=1.0, description="Fraction of pixels that changed")
    inside_box: float | None = Field(default=None, description="Fraction of the target box's pixels that changed")
    outside_box: float | None = Field(default=None, description="Fraction of the pixels outside the target box that changed")
    threshold: float = NO_OP_FRACTION
    no_op: bool = False
    no_op_reason: str | None = None


class Round(SessionModel):
    index: int = Field(ge=1, description="Round r edits round r-1's output (round 0 is the picked draft)")
    instruction: str
    references: list[StoredImage] = Field(default_factory=list)
    target_box: Box2D | None = None
    from_suggestion: int | None = Field(default=None, description="Suggestion number of round r-1 this round applies")
    seed: int | None = None
    status: RoundStatus = RoundStatus.PENDING
    output: StoredImage | None = None
    mode: EditMode | None = None
    prompt: str | None = Field(default=None, description="The exact prompt the editor sent to its model")
    model: ModelInfo | None = None
    timings: Timings | None = None
    usage: Usage | None = None
    applied_box: Box2D | None = None
    guidance: Guidance | None = None
    error: str | None = None
    warnings: list[str] = Field(
        default_factory=list, description="Every warning the services returned for this round, by service"
    )
    change: Change | None = Field(default=None, description="Pixels the edit changed; no_op when (almost) none did")
    attempts: int = 0
    created_at: datetime = Field(default_factory=_now)
    finished_at: datetime | None = None

    @property
    def planned_mode(self) -> EditMode:
        return EditMode.TEXT_IMAGE if self.references else EditMode.TEXT

    @property
    def no_op(self) -> bool:
        return self.change is not None and self.change.no_op

    @property
    def state(self) -> str:
        """What the CLI, the HTML page and the studio show: the status, or "no-op" for a finished edit that changed nothing."""
        if self.no_op and self.status in (RoundStatus.EDITED, RoundStatus.DONE):
            return "no-op"
        return self.status.value

    def reset(self) -> None:
        """Forget every result of this round, so it runs again (its files stay on disk)."""
        self.status = RoundStatus.PENDING
        self.output = self.mode = self.prompt = self.model = self.timings = self.usage = None
        self.applied_box = self.guidance = self.error = self.change = self.finished_at = None
        self.warnings = []


class BranchOrigin(SessionModel):
    session_id: str
    round: int


class Session(SessionModel):
    schema_version: int = SCHEMA_VERSION
    id: str
    name: str | None = None
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    branched_from: BranchOrigin | None = None
    draft: Draft
    target: StoredImage | None = Field(default=None, description="Inspiration / target image for guidance")
    analyze_k: int = Field(default=3, ge=1, le=10)
    rounds: list[Round] = Field(default_factory=list)

    # -- navigation --------------------------------------------------------------------
    def chosen_image(self) -> StoredImage | None:
        if self.draft.chosen is None or self.draft.chosen >= len(self.draft.candidates):
            return None
        return self.draft.candidates[self.draft.chosen].image

    def step_image(self, index: int) -> StoredImage | None:
        """The design after round ``index`` (0: the picked draft)."""
        if index == 0:
            return self.chosen_image()
        round_ = self.rounds[index - 1]
        return round_.output if round_.status in (RoundStatus.EDITED, RoundStatus.DONE) else None

    def step_guidance(self, index: int) -> Guidance | None:
        return self.draft.guidance if index == 0 else self.rounds[index - 1].guidance

    def completed_rounds(self) -> int:
        """How many rounds, counted from the first, have an edited image."""
        count = 0
        for round_ in self.rounds:
            if round_.status not in (RoundStatus.EDITED, RoundStatus.DONE):
                break
            count += 1
        return count

    def current_index(self) -> int:
        return self.completed_rounds()

    def models(self) -> Iterator[ModelInfo]:
        """Every ModelInfo any response in this session carried."""

        def from_guidance(guidance: Guidance | None) -> Iterator[ModelInfo]:
            if guidance and guidance.scores:
                yield guidance.scores.model
            if guidance and guidance.analysis:
                yield guidance.analysis.model

        if self.draft.model:
            yield self.draft.model
        yield from from_guidance(self.draft.guidance)
        for round_ in self.rounds:
            if round_.model:
                yield round_.model
            yield from from_guidance(round_.guidance)

    @property
    def offline(self) -> bool:
        return any(model.offline for model in self.models())

    @property
    def random_weights(self) -> bool:
        return any(model.random_weights for model in self.models())

    @property
    def pending_draft(self) -> bool:
        """The draft has no candidates yet, or its guidance against the target is missing."""
        return not self.draft.candidates or (
            self.draft.chosen is not None and self.target is not None and self.draft.guidance is None
        )

    @property
    def pending(self) -> bool:
        return self.pending_draft or any(r.status is not RoundStatus.DONE for r in self.rounds)

    def blocking_round(self) -> Round | None:
        """The last round when it is failed or pending: it must be retried, dropped or undone before a new round."""
        if self.rounds and self.rounds[-1].status in (RoundStatus.FAILED, RoundStatus.PENDING):
            return self.rounds[-1]
        return None


class SessionSummary(BaseModel):
    id: str
    name: str | None
    prompt: str
    rounds: int
    completed: int
    pending: bool
    offline: bool
    branched_from: BranchOrigin | None
    updated_at: datetime
    states: list[str] = Field(default_factory=list, description="Each round's state, in order")
    warnings: int = 0


_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
_ID_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")


def read_image_file(path: str | os.PathLike[str], what: str = "image") -> ImagePayload:
    """A user's image file, or one clear line saying why it cannot be used."""
    source = Path(path).expanduser()
    if not source.is_file():
        raise FileNotFoundError(f"{what} file not found: {source}" if not source.exists() else f"{what} is not a file: {source}")
    try:
        return ImagePayload.from_bytes(source.read_bytes())
    except ValidationError as exc:
        raise ValueError(f"{what} {source} cannot be used: {exc.errors()[0]['msg']}") from None


def new_session_id() -> str:
    return f"{_now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


class SessionNotFound(LookupError):
    pass


class SessionLocked(FolderLocked):
    """Another process (or thread) is changing this session now."""


class SessionStore:
    """Sessions under one folder. Safe against crashes; one writer per session at a time."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser()

    def folder(self, session_id: str) -> Path:
        if not _ID_CHARS.match(session_id):
            raise SessionNotFound(f"{session_id!r} is not a session id")
        return self.root / session_id

    def image_path(self, session: Session | str, image: StoredImage) -> Path:
        session_id = session if isinstance(session, str) else session.id
        return self.folder(session_id) / image.path

    # -- sessions ------------------------------------------------------------------------
    def create(self, draft: Draft, *, name: str | None = None, session_id: str | None = None, analyze_k: int = 3) -> Session:
        session = Session(id=session_id or new_session_id(), name=name, draft=draft, analyze_k=analyze_k)
        folder = self.folder(session.id)
        if (folder / "session.json").exists():
            raise FileExistsError(f"session {session.id} exists already in {self.root}")
        (folder / "images").mkdir(parents=True, exist_ok=True)
        self.save(session)
        return session

    def save(self, session: Session) -> None:
        session.updated_at = _now()
        atomic_write_bytes(self.folder(session.id) / "session.json", session.model_dump_json(indent=2).encode("utf-8"))

    def resolve(self, ref: str) -> str:
        """A session id from an id, a unique id prefix, a name, or 'latest'."""
        if ref == "latest":
            summaries = self.list()
            if not summaries:
                raise SessionNotFound(f"no sessions in {self.root}")
            return max(summaries, key=lambda s: s.updated_at).id
        if _ID_CHARS.match(ref) and (self.root / ref / "session.json").is_file():
            return ref
        matches = [s.id for s in self.list() if s.id.startswith(ref) or s.name == ref]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise SessionNotFound(f"no session {ref!r} in {self.root}; `fashionedit session list` shows them")
        raise SessionNotFound(f"{ref!r} matches several sessions: {', '.join(sorted(matches))}")

    def load(self, ref: str) -> Session:
        session_id = self.resolve(ref)
        return Session.model_validate_json((self.folder(session_id) / "session.json").read_bytes())

    def list(self) -> list[SessionSummary]:
        if not self.root.is_dir():
            return []
        out = []
        for path in sorted(self.root.glob("*/session.json")):
            try:
                session = Session.model_validate_json(path.read_bytes())
            except ValueError:
                continue  # not ours, or from an incompatible version: skip rather than fail the listing
            out.append(
                SessionSummary(
                    id=session.id,
                    name=session.name,
                    prompt=session.draft.prompt,
                    rounds=len(session.rounds),
                    completed=session.completed_rounds(),
                    pending=session.pending,
                    offline=session.offline,
                    branched_from=session.branched_from,
                    updated_at=session.updated_at,
                    states=[r.state for r in session.rounds],
                    warnings=len(session.draft.warnings) + sum(len(r.warnings) for r in session.rounds),
                )
            )
        return sorted(out, key=lambda s: s.updated_at)

    # -- one writer at a time --------------------------------------------------------------
    @contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        """Hold the session's lock file (``<folder>/.lock``, flock) while changing it; re-entrant within a thread.

        Raises :class:`SessionLocked` at once, naming the holder's pid, when another process or thread holds it.
        """
        folder = self.folder(self.resolve(session_id))
        with hold_folder(folder, f"session {folder.name}", error=SessionLocked):
            yield

    # -- images --------------------------------------------------------------------------
    def put_image(self, session: Session, stem: str, payload: ImagePayload, *, source: str | None = None) -> StoredImage:
        data = payload.to_bytes()
        relative = f"images/{stem}{_EXTENSIONS.get(payload.format, '.bin')}"
        atomic_write_bytes(self.folder(session.id) / relative, data)
        width, height = payload.size
        return StoredImage(
            path=relative,
            sha256=hashlib.sha256(data).hexdigest(),
            width=width,
            height=height,
            format=payload.format,
            source=source,
        )

    def free_stem(self, session: Session, stem: str) -> str:
        """``stem``, or ``stem-2``, ``stem-3``... : a name no file in the session has, so a retried or replaced
        round never overwrites an image that a dropped round, a branch or an exported page still shows."""
        images = self.folder(session.id) / "images"
        taken = {p.stem for p in images.iterdir()} if images.is_dir() else set()
        if stem not in taken:
            return stem
        number = 2
        while f"{stem}-{number}" in taken:
            number += 1
        return f"{stem}-{number}"

    def put_file(self, session: Session, stem: str, path: str | os.PathLike[str]) -> StoredImage:
        """Copy a user's image file into the session (validated as the services would)."""
        source = Path(path).expanduser()
        payload = read_image_file(source)
        return self.put_image(session, stem, payload, source=str(source))

    def read_payload(self, session: Session, image: StoredImage) -> ImagePayload:
        data = self.image_path(session, image).read_bytes()
        if hashlib.sha256(data).hexdigest() != image.sha256:
            raise ValueError(f"{image.path} in session {session.id} was changed on disk (sha256 differs)")
        return ImagePayload.from_bytes(data)

    # -- branching -----------------------------------------------------------------------
    def branch(self, ref: str, at_round: int, *, name: str | None = None) -> Session:
        """A new session holding ``ref``'s draft and rounds 1..``at_round``; new rounds continue from there."""
        parent = self.load(ref)
        if at_round < 0 or at_round > parent.completed_rounds():
            raise ValueError(
                f"session {parent.id} has {parent.completed_rounds()} completed rounds; branch from "
                f"0..{parent.completed_rounds()}"
            )
        if parent.chosen_image() is None:
            raise ValueError(f"session {parent.id} has no picked draft yet; pick one before branching")
        child = parent.model_copy(deep=True)
        child.id = new_session_id()
        child.name = name or (f"{parent.name or parent.id} @ round {at_round}")
        child.created_at = _now()
        child.branched_from = BranchOrigin(session_id=parent.id, round=at_round)
        child.rounds = child.rounds[:at_round]
        src, dst = self.folder(parent.id), self.folder(child.id)
        (dst / "images").mkdir(parents=True, exist_ok=True)
        for image in _images_of(child):
            target = dst / image.path
            if not target.exists():
                _link_or_copy(src / image.path, target)
        self.save(child)
        return child

    def delete(self, ref: str) -> None:
        shutil.rmtree(self.folder(self.resolve(ref)))


def _images_of(session: Session) -> Iterator[StoredImage]:
    def from_guidance(guidance: Guidance | None) -> Iterator[StoredImage]:
        if guidance and guidance.analysis:
            for suggestion in guidance.analysis.suggestions:
                if suggestion.crop:
                    yield suggestion.crop

    for candidate in session.draft.candidates:
        yield candidate.image
    if session.target:
        yield session.target
    yield from from_guidance(session.draft.guidance)
    for round_ in session.rounds:
        yield from round_.references
        if round_.output:
            yield round_.output
        yield from from_guidance(round_.guidance)


def _link_or_copy(src: Path, dst: Path) -> None:
    # Images are never rewritten in place (atomic replace makes a new inode), so a hard link is safe.
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        data = src.read_bytes()
        atomic_write_bytes(dst, data)
