"""Design-session bookkeeping when services fail, against in-process fake services (httpx.MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest
from PIL import Image

from fashionedit.client import ClientSettings, FashionEditClient, InvalidRequestError, ServiceConnectionError, UpstreamError
from fashionedit.client.design import DesignSessions, SessionStateError
from fashionedit.client.session import RoundStatus, SessionStore
from fashionedit.contracts import (
    AnalyzeResponse,
    Difference,
    EditMode,
    EditResponse,
    ErrorResponse,
    GeneratedImage,
    GenerateResponse,
    ImagePayload,
    ModelInfo,
    PairScore,
    ScoreAggregate,
    ScoreResponse,
    Timings,
)

INFO = ModelInfo(backend="fake", model_id="fake", offline=True)


def png(color) -> ImagePayload:
    return ImagePayload.from_pil(Image.new("RGB", (64, 64), color))


class FakeServices:
    """Answers like the four services; ``faults[path]`` holds responses/exceptions to return first."""

    def __init__(self) -> None:
        self.faults: dict[str, list] = {}
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(path)
        body = json.loads(request.content)
        if self.faults.get(path):
            fault = self.faults[path].pop(0)
            if isinstance(fault, Exception):
                raise fault
            status, code = fault
            return httpx.Response(status, json=ErrorResponse.make(status, code, f"fake {code}").model_dump(mode="json"))
        if path == "/v1/generate":
            images = [GeneratedImage(image=png((200, 200, n * 20)), seed=n) for n in range(body["num_images"])]
            out = GenerateResponse(images=images, model=INFO, timings=Timings(total_ms=1))
        elif path == "/v1/edit":
            mode = EditMode.TEXT_IMAGE if body.get("references") else EditMode.TEXT
            out = EditResponse(
                image=png((10, 20, len(self.calls))),
                mode=mode,
                prompt=body["instruction"],
                model=INFO,
                timings=Timings(total_ms=1),
            )
        elif path == "/v1/score":
            out = ScoreResponse(
                scores=[PairScore(id=body["pairs"][0]["id"], psnr=20.0)],
                aggregate=ScoreAggregate(n=1, psnr=20.0),
                metrics=[],
                clip_threshold=0.9,
                psnr_rule="fake",
                model=INFO,
                timings=Timings(total_ms=1),
            )
        else:
            diff = Difference(description="make it navy", box_2d=[0, 0, 500, 500], crop=png((0, 0, 128)))
            out = AnalyzeResponse(differences=[diff], model=INFO, timings=Timings(total_ms=1))
        return httpx.Response(200, content=out.model_dump_json())


@pytest.fixture
def fake(tmp_path):
    services = FakeServices()
    settings = ClientSettings(backoff_initial_s=0.001, backoff_max_s=0.01, max_attempts=2, sessions_dir=tmp_path)
    client = FashionEditClient(settings)
    for svc in client.services().values():
        svc.transport.http = httpx.Client(transport=httpx.MockTransport(services))
    target = tmp_path / "target.png"
    Image.new("RGB", (64, 64), (0, 0, 128)).save(target)
    return services, DesignSessions(SessionStore(tmp_path / "sessions"), client), target


def test_refused_edit_is_recorded_failed_and_retried_by_resume(fake):
    services, designs, target = fake
    session = designs.start("a white blazer", width=64, height=64, target=target)
    services.faults["/v1/edit"] = [(422, "invalid_request")]
    with pytest.raises(InvalidRequestError):
        designs.add_round(session, "make it navy")
    saved = designs.store.load(session.id)
    assert saved.rounds[0].status is RoundStatus.FAILED and "fake invalid_request" in saved.rounds[0].error
    resumed = designs.resume(saved)
    assert resumed.rounds[0].status is RoundStatus.DONE and resumed.rounds[0].error is None and resumed.rounds[0].attempts == 2


def test_unreachable_editor_leaves_the_round_pending(fake):
    services, designs, target = fake
    session = designs.start("a white blazer", width=64, height=64)
    services.faults["/v1/edit"] = [httpx.ConnectError("refused")] * 2
    with pytest.raises(ServiceConnectionError):
        designs.add_round(session, "make it navy")
    saved = designs.store.load(session.id)
    assert saved.rounds[0].status is RoundStatus.PENDING and saved.pending
    assert designs.resume(saved).rounds[0].status is RoundStatus.DONE


def test_guidance_failure_keeps_the_edit_and_resume_does_not_redo_it(fake):
    services, designs, target = fake
    session = designs.start("a white blazer", width=64, height=64, target=target)
    services.faults["/v1/analyze"] = [(502, "upstream_error")]
    with pytest.raises(UpstreamError):
        designs.add_round(session, "make it navy")
    saved = designs.store.load(session.id)
    assert saved.rounds[0].status is RoundStatus.EDITED and saved.rounds[0].output is not None
    edits_before = services.calls.count("/v1/edit")
    done = designs.resume(saved)
    assert services.calls.count("/v1/edit") == edits_before  # the saved edit is not requested again
    assert (
        done.rounds[0].status is RoundStatus.DONE
        and done.rounds[0].guidance.analysis.suggestions[0].description == "make it navy"
    )


def test_capability_missing_is_noted_not_fatal(fake):
    services, designs, target = fake
    services.faults["/v1/score"] = [(503, "unavailable")]
    session = designs.start("a white blazer", width=64, height=64, target=target)
    assert session.draft.guidance.scores is None and "fake unavailable" in session.draft.guidance.errors[0]
    assert session.draft.guidance.analysis is not None


def test_suggestion_round_uses_description_crop_and_box(fake):
    services, designs, target = fake
    session = designs.start("a white blazer", width=64, height=64, target=target)
    session = designs.add_round(session, suggestion=1)
    round_ = session.rounds[0]
    assert round_.instruction == "make it navy" and round_.target_box.root == (0, 0, 500, 500)
    assert len(round_.references) == 1 and round_.mode is EditMode.TEXT_IMAGE
    with pytest.raises(SessionStateError, match="no suggestion 5"):
        designs.add_round(session, suggestion=5)


def test_unpicked_draft_blocks_rounds_until_picked(fake):
    services, designs, target = fake
    session = designs.start("a white blazer", width=64, height=64, candidates=3)
    assert session.draft.chosen is None and len(session.draft.candidates) == 3
    with pytest.raises(SessionStateError, match="pick"):
        designs.add_round(session, "make it navy")
    session = designs.pick(session, 2)
    assert session.chosen_image().path == "images/draft-c2.png"
    with pytest.raises(ValueError):
        designs.add_round(session, "   ")
    assert designs.store.load(session.id).rounds == []
