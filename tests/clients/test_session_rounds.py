"""Rounds that fail, get retried, dropped or undone; warnings and no-op edits; the lock; boxes; 80-column views.

The services here are in-process fakes (httpx.MockTransport) so each state can be produced on demand; the
same behaviour over real `bentoml serve` processes is in test_mixed_rounds_integration.py.
"""

from __future__ import annotations

import json

import httpx
import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

from fashionedit.client import ClientSettings, FashionEditClient, InvalidRequestError
from fashionedit.client.cli import app
from fashionedit.client.design import BoxError, DesignSessions, SessionStateError, measure_change, parse_box
from fashionedit.client.export import export_html
from fashionedit.client.session import NO_OP_FRACTION, RoundStatus, SessionLocked, SessionStore
from fashionedit.client.views import print_session, print_summaries
from fashionedit.contracts import (
    Box2D,
    EditMode,
    EditResponse,
    GeneratedImage,
    GenerateResponse,
    ImagePayload,
    ModelInfo,
    Timings,
)
from tests.clients.conftest import chromium_image_check
from tests.clients.test_design_faults import FakeServices, png
from tests.support.locks import folder_held_by_another_process

INFO = ModelInfo(backend="fake", model_id="fake", offline=True)


class WarningServices(FakeServices):
    """FakeServices whose generator and editor return warnings; ``same`` makes the editor return its input unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.same = False
        self.editor_model = INFO
        self.instructions: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.path == "/v1/generate" and not self.faults.get("/v1/generate"):
            self.calls.append(request.url.path)
            images = [GeneratedImage(image=png((200, 200, 200)), seed=n) for n in range(body["num_images"])]
            out = GenerateResponse(
                images=images, model=INFO, timings=Timings(total_ms=1), warnings=["flats did not understand: kimono, dragon"]
            )
            return httpx.Response(200, content=out.model_dump_json())
        if request.url.path == "/v1/edit":
            self.instructions.append(body["instruction"])
            if not self.faults.get("/v1/edit"):
                self.calls.append(request.url.path)
                image = ImagePayload(body["image"]) if self.same else png((10, 20, 30 + len(self.calls)))
                out = EditResponse(
                    image=image,
                    mode=EditMode.TEXT_IMAGE if body.get("references") else EditMode.TEXT,
                    prompt=body["instruction"],
                    model=self.editor_model,
                    timings=Timings(total_ms=1),
                    warnings=["not applied: unknown word(s) 'wide'"] if "wide" in body["instruction"] else [],
                )
                return httpx.Response(200, content=out.model_dump_json())
        return super().__call__(request)


@pytest.fixture
def fake(tmp_path):
    services = WarningServices()
    settings = ClientSettings(backoff_initial_s=0.001, backoff_max_s=0.01, max_attempts=2, sessions_dir=tmp_path / "sessions")
    client = FashionEditClient(settings)
    for svc in client.services().values():
        svc.transport.http = httpx.Client(transport=httpx.MockTransport(services))
    target = tmp_path / "target.png"
    Image.new("RGB", (64, 64), (0, 0, 128)).save(target)
    return services, DesignSessions(SessionStore(tmp_path / "sessions"), client), target


def failed_session(services, designs, **start):
    session = designs.start("a white blazer", width=64, height=64, **start)
    session = designs.add_round(session, "make it navy")
    services.faults["/v1/edit"] = [(422, "invalid_request")]
    with pytest.raises(InvalidRequestError):
        designs.add_round(session, "dance the tango")
    return designs.store.load(session.id)


def test_a_new_round_after_a_failed_one_is_refused_with_the_way_out_and_never_reruns_it(fake):
    services, designs, _ = fake
    session = failed_session(services, designs)
    edits = len(services.instructions)
    with pytest.raises(SessionStateError) as refused:
        designs.add_round(session, "make it black")
    message = str(refused.value)
    assert (
        "round 2 is failed" in message
        and f"session retry {session.id} 2" in message
        and f"session drop {session.id} 2" in message
    )
    assert len(services.instructions) == edits  # the failed round was not sent again
    assert [r.instruction for r in designs.store.load(session.id).rounds] == ["make it navy", "dance the tango"]

    replaced = designs.add_round(session, "make it black", replace=True)
    assert [(r.instruction, r.status) for r in replaced.rounds] == [
        ("make it navy", RoundStatus.DONE),
        ("make it black", RoundStatus.DONE),
    ]
    assert services.instructions[edits:] == ["make it black"]


def test_retry_as_it_was_and_with_a_new_instruction(fake):
    services, designs, _ = fake
    session = failed_session(services, designs)
    services.faults["/v1/edit"] = [(422, "invalid_request")]
    with pytest.raises(InvalidRequestError):
        designs.retry_round(session, 2)
    again = designs.store.load(session.id)
    assert again.rounds[1].status is RoundStatus.FAILED and again.rounds[1].attempts == 2
    assert services.instructions[-1] == "dance the tango"

    done = designs.retry_round(again, 2, instruction="make it black", box="[100, 200, 300, 400]")
    assert done.rounds[1].status is RoundStatus.DONE and done.rounds[1].instruction == "make it black"
    assert (
        done.rounds[1].target_box.root == (100, 200, 300, 400) and done.rounds[1].attempts == 3 and done.rounds[1].error is None
    )
    assert services.instructions[-1] == "make it black"
    first_output = done.rounds[1].output
    # The last round may be redone whatever its state; its earlier image stays on disk, not overwritten.
    redone = designs.retry_round(done, 2, instruction="make it grey", box="none")
    assert redone.rounds[1].target_box is None and redone.rounds[1].output.path != first_output.path
    assert designs.store.image_path(redone, first_output).is_file()
    with pytest.raises(SessionStateError, match=r"round\(s\) 2 build on it"):
        designs.retry_round(redone, 1)
    with pytest.raises(ValueError, match="no round 5"):
        designs.retry_round(redone, 5)


def test_drop_and_undo(fake):
    services, designs, _ = fake
    session = failed_session(services, designs)
    dropped = designs.drop_round(session, 2)
    assert [r.instruction for r in dropped.rounds] == ["make it navy"]
    session = designs.add_round(dropped, "make it black")
    session = designs.add_round(session, "add pockets")
    with pytest.raises(SessionStateError, match="only a failed or pending round, or the last"):
        designs.drop_round(session, 2)
    outputs = [r.output for r in session.rounds]
    undone = designs.undo(session)
    assert [r.instruction for r in undone.rounds] == ["make it navy", "make it black"]
    assert designs.store.load(session.id).current_index() == 2
    assert all(designs.store.image_path(session, o).is_file() for o in outputs)  # history stays on disk
    assert designs.undo(designs.undo(undone)).rounds == []
    with pytest.raises(SessionStateError, match="nothing to undo"):
        designs.undo(designs.store.load(session.id))
    # A pending round (e.g. after Ctrl-C) in the middle of older rounds: drop renumbers those after it.
    session = designs.add_round(designs.store.load(session.id), "one")
    session = designs.add_round(session, "two", run=False)
    session.rounds.append(session.rounds[-1].model_copy(update={"index": 3, "instruction": "three"}))
    designs.store.save(session)
    session = designs.drop_round(session, 2)
    assert [(r.index, r.instruction) for r in session.rounds] == [(1, "one"), (2, "three")]


def test_every_service_warning_is_kept_shown_and_exported(fake, tmp_path):
    services, designs, target = fake
    session = designs.start("a kimono with dragon embroidery", width=64, height=64, target=target)
    session = designs.add_round(session, "make the collar wide")
    saved = json.loads((designs.store.folder(session.id) / "session.json").read_text())
    assert saved["draft"]["warnings"] == ["generator: flats did not understand: kimono, dragon"]
    assert "editor: not applied: unknown word(s) 'wide'" in saved["rounds"][0]["warnings"]
    console = Console(width=80, record=True)
    print_session(console, designs.store, session)
    shown = console.export_text()
    assert "warning (draft): generator: flats did not understand: kimono, dragon" in shown
    assert "warning (round 1): editor: not applied: unknown word(s) 'wide'" in shown
    page = export_html(designs.store, session, tmp_path / "page.html").read_text()
    assert (
        "generator: flats did not understand: kimono, dragon" in page and "not applied: unknown word(s) &#x27;wide&#x27;" in page
    )


def test_an_edit_that_changes_nothing_is_a_no_op_not_done(fake, tmp_path):
    services, designs, _ = fake
    session = designs.start("a white blazer", width=64, height=64)
    services.same = True
    session = designs.add_round(session, "add a white collar")
    round_ = session.rounds[0]
    assert round_.status is RoundStatus.DONE and round_.no_op and round_.state == "no-op"
    assert round_.change.changed_fraction == 0.0 and f"{NO_OP_FRACTION:.1%}" in round_.change.no_op_reason
    assert designs.store.image_path(session, round_.output).is_file()  # the image is kept
    console = Console(width=80, record=True)
    print_session(console, designs.store, session)
    shown = console.export_text()
    assert "round 1 is a no-op" in shown and "no-op" in shown.split("round 1 is a no-op")[0]
    page_path = export_html(designs.store, session, tmp_path / "noop.html")
    page = page_path.read_text()
    assert 'class="badge noop">no-op<' in page and "0.000% of the pixels" in page
    assert chromium_image_check(page_path, tmp_path)["broken"] == []
    services.same = False
    redone = designs.retry_round(session, 1, instruction="make it navy")
    assert not redone.rounds[0].no_op and redone.rounds[0].change.changed_fraction > 0.95
    # Every pixel changed: the client says the picture was redrawn rather than edited.
    assert any(w.startswith("client: the edit changed 100.0% of the pixels") for w in redone.rounds[0].warnings)


def test_a_random_weight_editor_is_named_in_the_round_warnings(fake):
    services, designs, _ = fake
    services.editor_model = ModelInfo(backend="local", model_id="sd3-tiny", offline=True, random_weights=True)
    session = designs.add_round(designs.start("a white blazer", width=64, height=64), "make it navy")
    assert (
        "client: the editor answered from a random-weight test model (sd3-tiny): its picture is not a design"
        in session.rounds[0].warnings
    )


def test_change_is_measured_inside_and_outside_the_box():
    before = Image.new("RGB", (100, 100), (255, 255, 255))
    after = before.copy()
    after.paste((0, 0, 0), (20, 10, 40, 30))  # x 20-40, y 10-30: box_2d [100, 200, 300, 400]
    change = measure_change(ImagePayload.from_pil(before), ImagePayload.from_pil(after), Box2D((100, 200, 300, 400)))
    assert (
        change.changed_fraction == pytest.approx(0.04) and change.inside_box == pytest.approx(1.0) and change.outside_box == 0.0
    )
    assert not change.no_op
    dot = before.copy()
    dot.paste((0, 0, 0), (20, 10, 22, 12))  # 4 pixels: 0.04% of the image, 1% of the box: a small edit, not a no-op
    small = measure_change(ImagePayload.from_pil(before), ImagePayload.from_pil(dot), Box2D((100, 200, 300, 400)))
    assert small.changed_fraction < 0.001 and small.inside_box == pytest.approx(0.01) and not small.no_op
    assert measure_change(ImagePayload.from_pil(before), ImagePayload.from_pil(dot)).no_op  # without a box it is
    faint = before.copy()
    faint.paste((250, 250, 250), (0, 0, 100, 100))  # 5 levels: under the pixel tolerance
    assert measure_change(ImagePayload.from_pil(before), ImagePayload.from_pil(faint)).no_op


@pytest.mark.parametrize("text", ["[100, 200, 300, 400]", "100 200 300 400", "100,200,300,400", " (100, 200, 300, 400) "])
def test_boxes_in_every_form_the_cli_prints(text):
    assert parse_box(text).root == (100, 200, 300, 400)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[300, 200, 100, 400]", "ymin and ymax are reversed (ymin=300 > ymax=100)"),
        (
            "100,400,300,200",
            "xmin and xmax are reversed (xmin=400 > xmax=200); the order is [ymin, xmin, ymax, xmax] on 0-1000, so did you mean "
            "100,200,300,400?",
        ),
        ("100,200,100,400", "ymin equals ymax (100), so the box has no height"),
        ("100,200,300", "has 3 number(s), not 4"),
        ("100,200,300,1200", "xmax=1200 is outside 0-1000"),
        ("[100, two, 300, 400]", "'two' is not a number"),
    ],
)
def test_bad_boxes_say_what_is_wrong(text, message):
    with pytest.raises(BoxError) as error:
        parse_box(text)
    assert message in str(error.value)


def _cli_env(designs) -> dict[str, str]:
    # Every service URL points at a closed port: these commands must fail before any call, or need none.
    return {
        "FASHIONEDIT_SESSIONS_DIR": str(designs.store.root),
        "COLUMNS": "80",
        **{f"FASHIONEDIT_{n}_URL": "http://127.0.0.1:9" for n in ("GENERATOR", "EDITOR", "ANALYZER", "SCORER")},
    }


def test_cli_messages_for_a_reversed_box_and_a_missing_file_are_one_clear_line(fake, tmp_path):
    services, designs, _ = fake
    session = designs.start("a white blazer", width=64, height=64)
    runner = CliRunner()
    env = _cli_env(designs)
    reversed_box = runner.invoke(
        app,
        [
            "session",
            "round",
            session.id,
            "-i",
            "add buttons",
            "--ref",
            str(tmp_path / "target.png"),
            "--box",
            "[300, 200, 100, 400]",
        ],
        env=env,
    )
    assert reversed_box.exit_code == 2
    assert "ymin and ymax are reversed (ymin=300 > ymax=100); the order is [ymin, xmin, ymax, xmax]" in reversed_box.output
    missing = runner.invoke(
        app, ["session", "round", session.id, "-i", "add buttons", "--ref", str(tmp_path / "nope.png")], env=env
    )
    assert missing.exit_code == 1 and "Errno" not in missing.output
    lines = [line for line in missing.output.strip().splitlines() if "working" not in line]  # minus the (idle) progress bar
    assert lines == [f"error: reference image file not found: {tmp_path / 'nope.png'}"]
    assert designs.store.load(session.id).rounds == []  # nothing half-made was saved


def test_cli_retry_drop_undo_and_round_states_at_80_columns(fake):
    services, designs, _ = fake
    session = failed_session(services, designs, candidates=3, pick=1)
    runner = CliRunner()
    env = _cli_env(designs)
    blocked = runner.invoke(app, ["session", "round", session.id, "-i", "make it black"], env=env)
    assert blocked.exit_code == 1 and "round 2 is failed" in blocked.output and "--replace" in blocked.output
    shown = runner.invoke(app, ["session", "show", session.id], env=env).output
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "failed" in shown and "done" in shown and f"fashionedit session retry {session.id} 2" in shown
    assert "None/" not in shown and "candidate 1 of 3" in shown
    dropped = runner.invoke(app, ["session", "drop", session.id, "2"], env=env)
    assert dropped.exit_code == 0 and "dropped round 2" in dropped.output
    undone = runner.invoke(app, ["session", "undo", session.id], env=env)
    assert undone.exit_code == 0 and "undid round 1" in undone.output and designs.store.load(session.id).rounds == []
    # `retry` talks to the editor (unreachable here): the round stays pending, and the message names the editor.
    designs.add_round(designs.store.load(session.id), "make it navy", run=False)
    retried = runner.invoke(app, ["session", "retry", session.id, "1"], env=env)
    assert (
        retried.exit_code == 1
        and "editor" in retried.output
        and designs.store.load(session.id).rounds[0].status is RoundStatus.PENDING
    )


def test_session_list_is_readable_at_80_columns(fake):
    services, designs, _ = fake
    first = failed_session(services, designs)
    designs.start(
        "a long-sleeve white blazer with a lapel neckline and cotton fabric, long black trousers",
        width=64,
        height=64,
        name="second",
    )
    designs.store.branch(first.id, 1, name="alt")
    console = Console(width=80, record=True)
    print_summaries(console, designs.store.list())
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("offline profile") == 3 and "1 done, 1 failed" in text and f"branched from {first.id} @ round 1" in text


def test_a_second_process_cannot_change_a_locked_session(fake, tmp_path):
    services, designs, _ = fake
    session = designs.start("a white blazer", width=64, height=64)
    with folder_held_by_another_process(designs.store.folder(session.id)) as holder:
        with pytest.raises(SessionLocked, match=rf"another fashionedit process \(pid {holder.pid}\)"):
            with designs.store.lock(session.id):
                pass
        result = CliRunner().invoke(app, ["session", "undo", session.id], env=_cli_env(designs))
        assert (
            result.exit_code == 1
            and f"in use: session {session.id} is being changed by another fashionedit process" in result.output
        )
    with designs.store.lock(session.id):  # free again once the holder is done; re-entrant within this thread
        with designs.store.lock(session.id):
            designs.undo(designs.add_round(session, "make it navy"))
