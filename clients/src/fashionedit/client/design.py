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

import math
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from PIL import Image, ImageChops
from pydantic import TypeAdapter

from fashionedit.contracts import Box2D, EditRequest, GenerateRequest, ImagePayload, ModelInfo, ScorePair, ScoreRequest
from fashionedit.contracts.generate import Prompt

from .bundle import FashionEditClient
from .common.progress import NoProgress, Progress
from .errors import APIError, FashionEditError
from .session import (
    NO_OP_BOX_FRACTION,
    NO_OP_FRACTION,
    PIXEL_TOLERANCE,
    Analysis,
    Candidate,
    Change,
    Draft,
    Guidance,
    Round,
    RoundStatus,
    Scores,
    Session,
    SessionStore,
    StoredImage,
    Suggestion,
    read_image_file,
)


class SessionStateError(FashionEditError):
    """The session is not in a state that allows this step (e.g. no draft picked yet)."""


class BoxError(ValueError):
    """A target box the user typed that is not ``[ymin, xmin, ymax, xmax]`` on 0-1000."""


BOX_FORMS = "'ymin,xmin,ymax,xmax', 'ymin xmin ymax xmax' or '[ymin, xmin, ymax, xmax]', on 0-1000"
_BOX_NAMES = ("ymin", "xmin", "ymax", "xmax")
CLEAR_BOX = "none"  # retry_round(box="none") / `--box none`: edit the round without a target box


def parse_box(value: Box2D | Sequence[float] | str | None) -> Box2D | None:
    """A target box from any form the CLI prints or a user types, with a message that says what is wrong."""
    if value is None or isinstance(value, Box2D):
        return value
    if isinstance(value, str):
        text = value.strip().strip("[]()").strip()
        parts = [part for part in re.split(r"[\s,;]+", text) if part]
        numbers = []
        for part in parts:
            try:
                numbers.append(float(part))
            except ValueError:
                raise BoxError(f"box {value!r}: {part!r} is not a number; write it as {BOX_FORMS}") from None
    else:
        numbers = [float(v) for v in value]
    if len(numbers) != 4:
        raise BoxError(f"box {value!r} has {len(numbers)} number(s), not 4; write it as {BOX_FORMS}")
    for name, number in zip(_BOX_NAMES, numbers, strict=True):
        if not math.isfinite(number) or not 0 <= number <= 1000:
            raise BoxError(f"box {value!r}: {name}={number:g} is outside 0-1000 (boxes are normalised to 0-1000, not pixels)")
    for low, high, extent in ((0, 2, "height"), (1, 3, "width")):
        a, b = _BOX_NAMES[low], _BOX_NAMES[high]
        if numbers[low] > numbers[high]:
            raise BoxError(
                f"box {value!r}: {a} and {b} are reversed ({a}={numbers[low]:g} > {b}={numbers[high]:g}); the order is "
                f"[ymin, xmin, ymax, xmax] on 0-1000, so did you mean {_swapped(numbers, low, high)}?"
            )
        if numbers[low] == numbers[high]:
            raise BoxError(
                f"box {value!r}: {a} equals {b} ({numbers[low]:g}), so the box has no {extent}; the order is [ymin, xmin, ymax, "
                "xmax]"
            )
    return Box2D((numbers[0], numbers[1], numbers[2], numbers[3]))


def _swapped(numbers: list[float], low: int, high: int) -> str:
    fixed = list(numbers)
    fixed[low], fixed[high] = fixed[high], fixed[low]
    return ",".join(f"{v:g}" for v in fixed)


def measure_change(before: ImagePayload, after: ImagePayload, box: Box2D | None = None, warnings: Sequence[str] = ()) -> Change:
    """The fraction of pixels an edit changed (any channel by more than PIXEL_TOLERANCE), overall and in/out of ``box``."""
    with before.to_pil() as a_img, after.to_pil() as b_img:
        a = a_img.convert("RGB")
        b = b_img.convert("RGB")
    if b.size != a.size:
        b = b.resize(a.size, Image.Resampling.BILINEAR)
    red, green, blue = ImageChops.difference(a, b).split()
    changed = ImageChops.lighter(ImageChops.lighter(red, green), blue).point(lambda v: 255 if v > PIXEL_TOLERANCE else 0)

    def fraction(region: Image.Image) -> float:
        pixels = region.width * region.height
        return (region.histogram()[255] / pixels) if pixels else 0.0

    total = fraction(changed)
    inside = outside = None
    if box is not None:
        x0, y0, x1, y1 = box.to_pixels(*a.size)
        inside = fraction(changed.crop((x0, y0, x1, y1)))
        rest = a.width * a.height - (x1 - x0) * (y1 - y0)
        outside = (total * a.width * a.height - inside * (x1 - x0) * (y1 - y0)) / rest if rest else 0.0
    no_op = total < NO_OP_FRACTION and (inside is None or inside < NO_OP_BOX_FRACTION)
    reason = None
    if no_op:
        reason = f"the edit changed {total:.3%} of the pixels (under the {NO_OP_FRACTION:.1%} no-op threshold)"
        if inside is not None:
            reason += f" and {inside:.2%} inside its box (under {NO_OP_BOX_FRACTION:.0%})"
        if warnings:
            reason += "; " + "; ".join(warnings)
    return Change(changed_fraction=total, inside_box=inside, outside_box=outside, no_op=no_op, no_op_reason=reason)


def _prefixed(service: str, messages: Sequence[str]) -> list[str]:
    return [f"{service}: {message}" for message in messages]


GUIDANCE_SERVICES = ("scorer: ", "analyzer: ")


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
        GenerateRequest(
            prompt=prompt, negative_prompt=negative_prompt, seed=seed, width=width, height=height, num_images=candidates
        )
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
        target_image = read_image_file(target, "target image") if target is not None else None  # before anything is written
        session = self.store.create(draft, name=name, analyze_k=analyze_k)
        if target_image is not None:
            session.target = self.store.put_image(session, "target", target_image, source=str(target))
            self.store.save(session)
        return self.resume(session) if run else session

    def pick(self, session: Session, index: int) -> Session:
        if not session.draft.candidates:
            raise SessionStateError("the draft has no candidates yet; run `fashionedit session resume` first")
        if not 0 <= index < len(session.draft.candidates):
            raise ValueError(f"pick a candidate between 0 and {len(session.draft.candidates) - 1}")
        if session.rounds and session.draft.chosen != index:
            raise SessionStateError("rounds were already made on the picked draft; branch from round 0 to pick another")
        with self.store.lock(session.id):
            session.draft.chosen = index
            session.draft.guidance = None
            self.store.save(session)
            return self.resume(session)

    def set_target(self, session: Session, path: str | os.PathLike[str]) -> Session:
        """Set or replace the inspiration/target image; guidance is recomputed for every step."""
        with self.store.lock(session.id):
            session.target = self.store.put_file(session, self.store.free_stem(session, "target"), path)
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
        replace: bool = False,
    ) -> Session:
        """Queue round r (it edits round r-1's design) and, with ``run``, do it.

        ``suggestion=N`` applies the analyzer's N-th proposed edit of the design
        it starts from: its description as the instruction, its crop as the
        reference and its box as the target box (each overridable).

        A failed or pending round is never re-run behind the caller's back: while one
        exists this raises :class:`SessionStateError` (retry, drop or undo it first),
        unless ``replace=True``, which drops it and adds this round in its place.
        """
        if session.draft.chosen is None:
            raise SessionStateError("pick a draft candidate first (`fashionedit session pick`)")
        with self.store.lock(session.id):
            blocking = session.blocking_round()
            if blocking is not None and not replace:
                raise SessionStateError(self._blocked_message(session, blocking))
            if blocking is not None:
                # Validate the new round before the old one is dropped, so a typo loses nothing.
                self._check_round_input(instruction, suggestion, references, target_box)
                del session.rounds[blocking.index - 1 :]
            index = len(session.rounds) + 1
            box = parse_box(target_box)
            sources = [
                read_image_file(path, "reference image") for path in references
            ]  # every file checked before anything is saved
            refs: list[StoredImage] = []
            if suggestion is not None:
                chosen = self._suggestion(session, index - 1, suggestion)
                instruction = instruction or chosen.description
                box = box or chosen.box_2d
                if chosen.crop is not None and not references:
                    refs.append(self._suggestion_reference(session, chosen, self.store.free_stem(session, f"r{index}-ref0")))
            if not instruction or not instruction.strip():
                raise ValueError("a round needs an instruction (or --suggestion N)")
            instruction = TypeAdapter(Prompt).validate_python(instruction)  # the contract's own rule, before anything is saved
            for number, (path, payload) in enumerate(zip(references, sources, strict=True)):
                refs.append(
                    self.store.put_image(
                        session, self.store.free_stem(session, f"r{index}-ref{number}"), payload, source=str(path)
                    )
                )
            session.rounds.append(
                Round(
                    index=index,
                    instruction=instruction.strip(),
                    references=refs,
                    target_box=box,
                    from_suggestion=suggestion,
                    seed=seed,
                )
            )
            self.store.save(session)
            return self.resume(session) if run else session

    def retry_round(
        self,
        session: Session,
        number: int,
        *,
        instruction: str | None = None,
        references: Sequence[str | os.PathLike[str]] | None = None,
        box: Box2D | Sequence[float] | str | None = None,
    ) -> Session:
        """Run round ``number`` again: as it was, or with a new instruction, references or box (``box="none"``: no box).

        Allowed for a failed or pending round (nothing after it is done then) and for the last round in any
        state, e.g. a no-op. Its earlier result stays on disk, unreferenced; the new one never overwrites it.
        """
        with self.store.lock(session.id):
            round_ = self._round(session, number)
            later_done = [r.index for r in session.rounds[number:] if r.status in (RoundStatus.EDITED, RoundStatus.DONE)]
            if later_done:
                raise SessionStateError(
                    f"round {number} is {round_.state} and round(s) {', '.join(map(str, later_done))} build on it; "
                    f"undo those first (`fashionedit session undo {session.id}`), or branch from round {number - 1} "
                    f"(`fashionedit session branch {session.id} --round {number - 1}`) and redo it there"
                )
            if instruction is not None:
                if not instruction.strip():
                    raise ValueError("the new instruction is empty")
                instruction = TypeAdapter(Prompt).validate_python(instruction).strip()
            new_box = None if box is None or (isinstance(box, str) and box.strip().lower() == CLEAR_BOX) else parse_box(box)
            sources = [read_image_file(path, "reference image") for path in references or ()]
            if instruction is not None:
                round_.instruction, round_.from_suggestion = instruction, None
            if references is not None:
                round_.references = [
                    self.store.put_image(session, self.store.free_stem(session, f"r{number}-ref{n}"), payload, source=str(path))
                    for n, (path, payload) in enumerate(zip(references, sources, strict=True))
                ]
            if box is not None:
                round_.target_box = new_box
            round_.reset()
            self.store.save(session)
            return self.resume(session)

    def drop_round(self, session: Session, number: int) -> Session:
        """Remove round ``number`` when it is failed or pending, or when it is the last round.

        Later rounds (all still undone then) move up by one. Image files stay on disk.
        """
        with self.store.lock(session.id):
            round_ = self._round(session, number)
            if round_.status not in (RoundStatus.FAILED, RoundStatus.PENDING) and number != len(session.rounds):
                raise SessionStateError(
                    f"round {number} is {round_.state} and later rounds build on it; only a failed or pending round, or the "
                    f"last round, can be dropped (branch from round {number - 1} to take another way from there)"
                )
            del session.rounds[number - 1]
            for later in session.rounds[number - 1 :]:
                later.index -= 1
            self.store.save(session)
            return session

    def undo(self, session: Session) -> Session:
        """Remove the last round, whatever its state; the design goes back to the round before it."""
        with self.store.lock(session.id):
            if not session.rounds:
                raise SessionStateError(
                    "nothing to undo: the session has no rounds (the draft stays; `session pick` picks another)"
                )
            session.rounds.pop()
            self.store.save(session)
            return session

    def _round(self, session: Session, number: int) -> Round:
        if not session.rounds:
            raise SessionStateError(f"session {session.id} has no rounds yet")
        if not 1 <= number <= len(session.rounds):
            raise ValueError(f"session {session.id} has rounds 1..{len(session.rounds)}; there is no round {number}")
        return session.rounds[number - 1]

    def _suggestion(self, session: Session, step: int, number: int) -> Suggestion:
        guidance = session.step_guidance(step)
        found = [s for s in (guidance.analysis.suggestions if guidance and guidance.analysis else []) if s.number == number]
        if not found:
            raise SessionStateError(
                f"round {step} has no suggestion {number}; suggestions come from a target image "
                "(`--target`) and are listed by `fashionedit session show`"
            )
        return found[0]

    @staticmethod
    def _check_round_input(instruction: str | None, suggestion: int | None, references: Sequence[object], box: object) -> None:
        parse_box(box)  # type: ignore[arg-type]
        for path in references:
            read_image_file(path, "reference image")  # type: ignore[arg-type]
        if suggestion is None:
            if not instruction or not instruction.strip():
                raise ValueError("a round needs an instruction (or --suggestion N)")
            TypeAdapter(Prompt).validate_python(instruction)

    @staticmethod
    def _blocked_message(session: Session, round_: Round) -> str:
        why = f" ({round_.error})" if round_.error else ""
        n, sid = round_.index, session.id
        return (
            f"round {n} is {round_.state}{why}; a new round would build on it, so it is not run again behind your back. "
            f"Retry it (`fashionedit session retry {sid} {n}`, optionally with a new --instruction/--ref/--box), "
            f"drop it (`fashionedit session drop {sid} {n}`), or pass --replace to `session round` to put the new round in its "
            "place"
        )

    def _suggestion_reference(self, session: Session, chosen: Suggestion, stem: str) -> StoredImage:
        """The reference a suggestion hands the editor: the target's pixels inside the suggestion's box, exactly
        (the paper's reference crop). The stored crop is the readable window around the box, for a person to see;
        given as the reference it would be squeezed into the box."""
        if session.target is None:
            if chosen.crop is None:
                raise SessionStateError("this suggestion has no reference crop and the session no target to cut one from")
            return self._copy_stored(session, chosen.crop, stem)
        target = self.store.read_payload(session, session.target).to_pil()
        exact = target.crop(chosen.box_2d.to_pixels(*target.size))
        return self.store.put_image(
            session, stem, ImagePayload.from_pil(exact), source=f"{session.target.path} inside box {chosen.box_2d}"
        )

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
        """Do every step that has no saved result yet, in order; stop at the first failure (and raise it).

        This is the explicit "finish what is undone" step (`fashionedit session resume`, and the end of
        start/pick/add_round/retry_round): it also runs a failed round again, as it was.
        """
        with self.store.lock(session.id):
            self.progress.start(self.planned_calls(session), "working")
            if not session.draft.candidates:
                self._generate(session)
            if session.draft.chosen is None:
                return session  # waiting for the user to pick a candidate
            if session.target is not None and session.draft.guidance is None:
                session.draft.guidance = self._guidance(session, 0)
                session.draft.warnings = _without_guidance(session.draft.warnings) + session.draft.guidance.warnings
                self.store.save(session)
            for round_ in session.rounds:
                if round_.status in (RoundStatus.PENDING, RoundStatus.FAILED):
                    self._edit(session, round_)
                if round_.status is RoundStatus.EDITED:
                    round_.warnings = _without_guidance(round_.warnings)
                    if session.target is not None:
                        round_.guidance = self._guidance(session, round_.index)
                        round_.warnings += round_.guidance.warnings
                    round_.status = RoundStatus.DONE
                    round_.finished_at = datetime.now(UTC)
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
        self.progress.describe(f"generating {draft.num_candidates} draft candidate(s)")
        try:
            response = self.client.generator.generate(request)
        except APIError as exc:
            draft.error = str(exc)
            self.store.save(session)
            raise
        draft.candidates = [
            Candidate(
                image=self.store.put_image(session, self.store.free_stem(session, f"draft-c{number}"), item.image), seed=item.seed
            )
            for number, item in enumerate(response.images)
        ]
        draft.model, draft.timings, draft.prompt_truncation, draft.error = (
            response.model,
            response.timings,
            response.prompt_truncation,
            None,
        )
        draft.warnings = _prefixed("generator", response.warnings)
        if response.prompt_truncation is not None:
            cut = response.prompt_truncation
            draft.warnings.append(f"generator: not read by CLIP (past its {cut.max_tokens} tokens): {cut.truncated_text!r}")
        draft.warnings += _client_notes("generator", response.model, response.warnings, None)
        if draft.chosen is not None and draft.chosen >= len(draft.candidates):
            draft.chosen = 0
        self.store.save(session)
        self.progress.advance()

    def _edit(self, session: Session, round_: Round) -> None:
        source = session.step_image(round_.index - 1)
        if source is None:
            raise SessionStateError(f"round {round_.index} needs round {round_.index - 1}'s design, which is missing")
        source_payload = self.store.read_payload(session, source)
        request = EditRequest(
            image=source_payload,
            instruction=round_.instruction,
            references=[self.store.read_payload(session, ref) for ref in round_.references],
            target_box=round_.target_box,
            seed=round_.seed,
        )
        round_.attempts += 1
        kind = "image-into-prompt" if round_.references else "text-as-prompt"
        self.progress.describe(f"round {round_.index}: editing ({kind})")
        try:
            response = self.client.editor.edit(request)
        except APIError as exc:
            # The service refused this round: record why; `retry` (or `resume`) runs it again, `drop` removes it.
            round_.status, round_.error = RoundStatus.FAILED, str(exc)
            self.store.save(session)
            raise
        except FashionEditError as exc:
            round_.error = str(exc)  # unreachable or too slow: still pending
            self.store.save(session)
            raise
        round_.output = self.store.put_image(session, self.store.free_stem(session, f"r{round_.index}-out"), response.image)
        round_.mode, round_.prompt, round_.model = response.mode, response.prompt, response.model
        round_.timings, round_.usage, round_.applied_box = response.timings, response.usage, response.target_box
        round_.warnings = _prefixed("editor", response.warnings)
        if response.revised_prompt:
            round_.warnings.append(f"editor: the model rewrote the prompt as {response.revised_prompt!r}")
        round_.change = measure_change(source_payload, response.image, round_.applied_box or round_.target_box, response.warnings)
        round_.warnings += _client_notes("editor", response.model, response.warnings, round_.change)
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

        self.progress.describe(f"{label}: scoring against the target")
        try:
            scored = self.client.scorer.score(
                request=ScoreRequest(pairs=[ScorePair(id=label, generated=design_payload, reference=target)])
            )
            guidance.scores = Scores(
                pair=scored.scores[0],
                metrics=scored.metrics,
                psnr_rule=scored.psnr_rule,
                model=scored.model,
                timings=scored.timings,
            )
            for status in scored.metrics:
                if not status.available:
                    guidance.warnings.append(
                        f"scorer: {status.metric.value.upper()} not computed: {status.reason or 'unavailable'}"
                    )
                elif status.random_weights:
                    guidance.warnings.append(f"scorer: {status.metric.value.upper()} uses random weights: not a model score")
            guidance.warnings += _prefixed("scorer", getattr(scored, "warnings", None) or [])
        except APIError as exc:
            if exc.status >= 500 and exc.code != "unavailable":
                raise
            guidance.errors.append(f"scores: {exc}")
        self.progress.advance()

        self.progress.describe(f"{label}: analysing differences from the target")
        try:
            analyzed = self.client.analyzer.analyze(
                original=target, generated=design_payload, k=session.analyze_k, include_crops=True, crop_window="readable"
            )
            suggestions = []
            for number, difference in enumerate(analyzed.differences, start=1):
                crop = (
                    self.store.put_image(session, self.store.free_stem(session, f"r{index}-s{number}"), difference.crop)
                    if difference.crop is not None
                    else None
                )
                suggestions.append(
                    Suggestion(number=number, description=difference.description, box_2d=difference.box_2d, crop=crop)
                )
            guidance.analysis = Analysis(
                suggestions=suggestions, repairs=analyzed.repairs, model=analyzed.model, timings=analyzed.timings
            )
            guidance.warnings += _prefixed("analyzer", [repair.message for repair in analyzed.repairs])
            guidance.warnings += _prefixed("analyzer", getattr(analyzed, "warnings", None) or [])
        except APIError as exc:
            if exc.status >= 500 and exc.code != "unavailable":
                raise
            guidance.errors.append(f"analysis: {exc}")
        self.progress.advance()
        return guidance


REDRAWN_FRACTION = 0.95  # an edit that changed this share of the pixels redrew the whole picture, background included


def _client_notes(service: str, model: ModelInfo, said: Sequence[str], change: Change | None) -> list[str]:
    """What the client itself can tell from a response: random-weight models, and an edit that redrew everything."""
    notes = []
    if model.random_weights and not any("random" in w for w in said):
        notes.append(
            f"client: the {service} answered from a random-weight test model ({model.model_id}): its picture is not a design"
        )
    if change is not None and change.changed_fraction >= REDRAWN_FRACTION:
        notes.append(
            f"client: the edit changed {change.changed_fraction:.1%} of the pixels, background included: "
            "the whole picture was redrawn, not edited; compare it with the round before"
        )
    return notes


def _without_guidance(warnings: list[str]) -> list[str]:
    """A step's warnings minus those of its (about to be recomputed) guidance."""
    return [w for w in warnings if not w.startswith(GUIDANCE_SERVICES)]
