"""Running design sessions against the services: draft, rounds, guidance, resume.

Every service answer is saved the moment it arrives (images first, then the
JSON), and a round's intent is saved before its edit is requested. ``resume``
then does only what is missing, so a process killed mid-round loses nothing the
services already returned and never repeats finished work::

    designs = DesignSessions(SessionStore("~/designs"), FashionEditClient())
    s = designs.start("a white long-sleeve blazer with a lapel neckline", candidates=2, pick=0, target="inspo.png")
    s = designs.add_round(s, "make the blazer navy")                           # text-as-prompt (Vanilla)
    s = designs.add_round(s, "add this pocket", references=["pocket.png"])     # image-into-prompt (BUG)
    s = designs.add_round(s, suggestion=1)        # apply the analyzer's first proposed edit, with its crop
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Protocol, Sequence

from pydantic import TypeAdapter

from fashionedit.contracts import Box2D, EditRequest, GenerateRequest, ScorePair, ScoreRequest
from fashionedit.contracts.generate import Prompt

from .bundle import FashionEditClient
from .errors import APIError, FashionEditError
from .session import (
    Analysis,
    Candidate,
    Draft,
    Guidance,
    Round,
    RoundStatus,
    Scores,
    Session,
    SessionStore,
    StoredImage,
    Suggestion,
)


class Progress(Protocol):
    """What a session reports while it works (the CLI draws a progress bar from it)."""

    def begin(self, total: int) -> None: ...

    def step(self, label: str) -> None: ...

    def advance(self) -> None: ...


class NoProgress:
    def begin(self, total: int) -> None:
        pass

    def step(self, label: str) -> None:
        pass

    def advance(self) -> None:
        pass


class SessionStateError(FashionEditError):
    """The session is not in a state that allows this step (e.g. no draft picked yet)."""


def _box(value: Box2D | Sequence[float] | str | None) -> Box2D | None:
    if value is None or isinstance(value, Box2D):
        return value
    if isinstance(value, str):
        value = [float(part) for part in value.replace(" ", ",").split(",") if part]
    return Box2D(tuple(value))  # type: ignore[arg-type]


class DesignSessions:
    def __init__(self, store: SessionStore, client: FashionEditClient, *, progress: Progress | None = None) -> None:
        self.store = store
        self.client = client
        self.progress: Progress = progress or NoProgress()

    # -- starting ------------------------------------------------------------------------
    def start(
        self,
        prompt: str,
        *,
        candidates: int = 1,
        pick: int | None = None,
        target: str | os.PathLike[str] | None = None,
        seed: int | None = None,
        width: int = 1024,
        height: int = 1024,
        steps: int | None = None,
        guidance_scale: float | None = None,
        negative_prompt: str = "",
        name: str | None = None,
        analyze_k: int = 3,
        run: bool = True,
    ) -> Session:
        """Create a session and generate its draft candidates. With one candidate it is picked."""
        # Validate against the contract before anything is written.
        GenerateRequest(prompt=prompt, negative_prompt=negative_prompt, seed=seed, width=width, height=height, num_images=candidates)
        if pick is not None and not 0 <= pick < candidates:
            raise ValueError(f"pick must be between 0 and {candidates - 1}")
        draft = Draft(
            prompt=prompt.strip(),
            negative_prompt=negative_prompt,
            seed=seed,
            width=width,
            height=height,
            steps=steps,
            guidance_scale=guidance_scale,
            num_candidates=candidates,
            chosen=pick if pick is not None else (0 if candidates == 1 else None),
        )
        session = self.store.create(draft, name=name, analyze_k=analyze_k)
        if target is not None:
            session.target = self.store.put_file(session, "target", target)
            self.store.save(session)
        return self.resume(session) if run else session

    def pick(self, session: Session, index: int) -> Session:
        if not session.draft.candidates:
            raise SessionStateError("the draft has no candidates yet; run `fashionedit session resume` first")
        if not 0 <= index < len(session.draft.candidates):
            raise ValueError(f"pick a candidate between 0 and {len(session.draft.candidates) - 1}")
        if session.rounds and session.draft.chosen != index:
            raise SessionStateError("rounds were already made on the picked draft; branch from round 0 to pick another")
        session.draft.chosen = index
        session.draft.guidance = None
        self.store.save(session)
        return self.resume(session)

    def set_target(self, session: Session, path: str | os.PathLike[str]) -> Session:
        """Set or replace the inspiration/target image; guidance is recomputed for every step."""
        session.target = self.store.put_file(session, "target", path)
        session.draft.guidance = None
        for round_ in session.rounds:
            round_.guidance = None
            if round_.status is RoundStatus.DONE:
                round_.status = RoundStatus.EDITED
        self.store.save(session)
        return self.resume(session)

    # -- rounds --------------------------------------------------------------------------
    def add_round(
        self,
        session: Session,
        instruction: str | None = None,
        *,
        references: Sequence[str | os.PathLike[str]] = (),
        target_box: Box2D | Sequence[float] | str | None = None,
        suggestion: int | None = None,
        seed: int | None = None,
        run: bool = True,
    ) -> Session:
        """Queue round r (it edits round r-1's design) and, with ``run``, do it.

        ``suggestion=N`` applies the analyzer's N-th proposed edit of the design
        it starts from: its description as the instruction, its crop as the
        reference and its box as the target box (each overridable).
        """
        if session.draft.chosen is None:
            raise SessionStateError("pick a draft candidate first (`fashionedit session pick`)")
        index = len(session.rounds) + 1
        refs: list[StoredImage] = []
        box = _box(target_box)
        if suggestion is not None:
            guidance = session.step_guidance(index - 1)
            found = [s for s in (guidance.analysis.suggestions if guidance and guidance.analysis else []) if s.number == suggestion]
            if not found:
                raise SessionStateError(
                    f"round {index - 1} has no suggestion {suggestion}; suggestions come from a target image "
                    "(`--target`) and are listed by `fashionedit session show`"
                )
            chosen: Suggestion = found[0]
            instruction = instruction or chosen.description
            box = box or chosen.box_2d
            if chosen.crop is not None and not references:
                refs.append(self._copy_stored(session, chosen.crop, f"r{index}-ref0"))
        if not instruction or not instruction.strip():
            raise ValueError("a round needs an instruction (or --suggestion N)")
        instruction = TypeAdapter(Prompt).validate_python(instruction)  # the contract's own rule, before anything is saved
        for number, path in enumerate(references):
            refs.append(self.store.put_file(session, f"r{index}-ref{number}", path))
        session.rounds.append(
            Round(index=index, instruction=instruction.strip(), references=refs, target_box=box, from_suggestion=suggestion, seed=seed)
        )
        self.store.save(session)
        return self.resume(session) if run else session

    def _copy_stored(self, session: Session, image: StoredImage, stem: str) -> StoredImage:
        payload = self.store.read_payload(session, image)
        return self.store.put_image(session, stem, payload, source=image.path)

    # -- doing what is missing -------------------------------------------------------------
    def planned_calls(self, session: Session) -> int:
        guidance_calls = 2 if session.target is not None else 0
        total = 0 if session.draft.candidates else 1
        if session.draft.chosen is not None and session.target is not None and session.draft.guidance is None:
            total += guidance_calls
        for round_ in session.rounds:
            if round_.status is RoundStatus.DONE:
                continue
            total += (0 if round_.status is RoundStatus.EDITED else 1) + guidance_calls
        return total

    def resume(self, session: Session) -> Session:
        """Do every step that has no saved result yet, in order; stop at the first failure (and raise it)."""
        self.progress.begin(self.planned_calls(session))
        if not session.draft.candidates:
            self._generate(session)
        if session.draft.chosen is None:
            return session  # waiting for the user to pick a candidate
        if session.target is not None and session.draft.guidance is None:
            session.draft.guidance = self._guidance(session, 0)
            self.store.save(session)
        for round_ in session.rounds:
            if round_.status in (RoundStatus.PENDING, RoundStatus.FAILED):
                self._edit(session, round_)
            if round_.status is RoundStatus.EDITED:
                if session.target is not None:
                    round_.guidance = self._guidance(session, round_.index)
                round_.status = RoundStatus.DONE
                round_.finished_at = datetime.now(timezone.utc)
                self.store.save(session)
        return session

    def _generate(self, session: Session) -> None:
        draft = session.draft
        request = GenerateRequest(
            prompt=draft.prompt,
            negative_prompt=draft.negative_prompt,
            seed=draft.seed,
            width=draft.width,
            height=draft.height,
            num_images=draft.num_candidates,
            **({"steps": draft.steps} if draft.steps is not None else {}),
            **({"guidance": draft.guidance_scale} if draft.guidance_scale is not None else {}),
        )
        self.progress.step(f"generating {draft.num_candidates} draft candidate(s)")
        try:
            response = self.client.generator.generate(request)
        except APIError as exc:
            draft.error = str(exc)
            self.store.save(session)
            raise
        draft.candidates = [
            Candidate(image=self.store.put_image(session, f"draft-c{number}", item.image), seed=item.seed)
            for number, item in enumerate(response.images)
        ]
        draft.model, draft.timings, draft.prompt_truncation, draft.error = response.model, response.timings, response.prompt_truncation, None
        if draft.chosen is not None and draft.chosen >= len(draft.candidates):
            draft.chosen = 0
        self.store.save(session)
        self.progress.advance()

    def _edit(self, session: Session, round_: Round) -> None:
        source = session.step_image(round_.index - 1)
        if source is None:
            raise SessionStateError(f"round {round_.index} needs round {round_.index - 1}'s design, which is missing")
        request = EditRequest(
            image=self.store.read_payload(session, source),
            instruction=round_.instruction,
            references=[self.store.read_payload(session, ref) for ref in round_.references],
            target_box=round_.target_box,
            seed=round_.seed,
        )
        round_.attempts += 1
        kind = "image-into-prompt" if round_.references else "text-as-prompt"
        self.progress.step(f"round {round_.index}: editing ({kind})")
        try:
            response = self.client.editor.edit(request)
        except APIError as exc:
            # The service refused this round: record why; `resume` retries it once the cause is fixed.
            round_.status, round_.error = RoundStatus.FAILED, str(exc)
            self.store.save(session)
            raise
        except FashionEditError as exc:
            round_.error = str(exc)  # unreachable or too slow: still pending
            self.store.save(session)
            raise
        round_.output = self.store.put_image(session, f"r{round_.index}-out", response.image)
        round_.mode, round_.prompt, round_.model = response.mode, response.prompt, response.model
        round_.timings, round_.usage, round_.applied_box = response.timings, response.usage, response.target_box
        round_.status, round_.error = RoundStatus.EDITED, None
        self.store.save(session)  # the edited image is safe from here on, whatever happens next
        self.progress.advance()

    def _guidance(self, session: Session, index: int) -> Guidance:
        """Score the design after step ``index`` against the target and ask for the next edits."""
        assert session.target is not None
        design = session.step_image(index)
        assert design is not None
        target = self.store.read_payload(session, session.target)
        design_payload = self.store.read_payload(session, design)
        guidance = Guidance()
        label = "draft" if index == 0 else f"round {index}"

        self.progress.step(f"{label}: scoring against the target")
        try:
            scored = self.client.scorer.score(
                request=ScoreRequest(pairs=[ScorePair(id=label, generated=design_payload, reference=target)])
            )
            guidance.scores = Scores(
                pair=scored.scores[0], metrics=scored.metrics, psnr_rule=scored.psnr_rule, model=scored.model, timings=scored.timings
            )
        except APIError as exc:
            if exc.status >= 500 and exc.code != "unavailable":
                raise
            guidance.errors.append(f"scores: {exc}")
        self.progress.advance()

        self.progress.step(f"{label}: analysing differences from the target")
        try:
            analyzed = self.client.analyzer.analyze(original=target, generated=design_payload, k=session.analyze_k, include_crops=True)
            suggestions = []
            for number, difference in enumerate(analyzed.differences, start=1):
                crop = (
                    self.store.put_image(session, f"r{index}-s{number}", difference.crop) if difference.crop is not None else None
                )
                suggestions.append(Suggestion(number=number, description=difference.description, box_2d=difference.box_2d, crop=crop))
            guidance.analysis = Analysis(suggestions=suggestions, repairs=analyzed.repairs, model=analyzed.model, timings=analyzed.timings)
        except APIError as exc:
            if exc.status >= 500 and exc.code != "unavailable":
                raise
            guidance.errors.append(f"analysis: {exc}")
        self.progress.advance()
        return guidance
