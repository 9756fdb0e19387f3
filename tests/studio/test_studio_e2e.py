"""The studio in headless Chromium against real `bentoml serve` processes (offline profile): a whole session as a
designer makes it, with real mouse events for the box, then bad input, then the CLI continuing a studio session."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fashionedit.client.demo import demo_script

pytestmark = pytest.mark.integration

PROMPT = demo_script().prompt
TIMEOUT_MS = 120_000  # a round on the offline profile takes seconds; the 2-core machine is shared


@pytest.fixture(scope="module")
def page(browser, studio):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # "Drop round N?"
    page.goto(studio.url)
    yield page
    context.close()
    assert console_errors == [], f"the page raised: {console_errors}"


def expect(locator):
    from playwright.sync_api import expect as pw_expect

    pw_expect.set_options(timeout=TIMEOUT_MS)
    return pw_expect(locator)


def shot(page, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # messages and progress are sticky: from the top they sit where they belong
    page.screenshot(path=str(path), full_page=True)
    return path


def session_json(studio, session_id: str) -> dict:
    return httpx.get(f"{studio.url}/api/sessions/{session_id}", timeout=30).json()["session"]


def current_session_id(page) -> str:
    return page.evaluate("location.hash.slice(1)")


def box_values(page) -> list[int]:
    return [int(page.input_value(f"#box-{name}") or -1) for name in ("ymin", "xmin", "ymax", "xmax")]


def drag(page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def canvas_point(page, fy: float, fx: float) -> tuple[float, float]:
    """The page coordinates of (fy, fx), fractions of the design's height and width."""
    canvas = page.locator("#canvas")
    canvas.scroll_into_view_if_needed()
    rect = canvas.bounding_box()
    return rect["x"] + fx * rect["width"], rect["y"] + fy * rect["height"]


def run_job(page, selector: str | None = None, *, button: str | None = None) -> None:
    """Click what starts a service step and wait until the page has loaded its outcome."""
    before = page.evaluate("Number(document.body.dataset.jobsFinished || 0)")
    if button is not None:
        page.get_by_role("button", name=button).click()
    else:
        page.click(selector)
    page.wait_for_function(f"Number(document.body.dataset.jobsFinished || 0) > {before}")


def drop_file(page, selector: str, path: Path) -> None:
    """Drop a file onto an element as a browser does from the desktop (a drop event carrying a DataTransfer)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    transfer = page.evaluate_handle(
        """([data, name]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            return transfer;
        }""",
        [data, Path(path).name],
    )
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def wait_round_done(page, index: int) -> None:
    item = page.locator(f'#timeline li[data-round="{index}"]')
    expect(item.locator("figcaption", has_text=f"round {index} result")).to_be_visible()
    expect(page.locator("#progress")).to_be_hidden()
    expect(item.locator(".badge.fail")).to_have_count(0)


def test_a_full_session_in_the_browser(page, studio, shots):
    plan = demo_script()
    # -- start: describe, attach the target, two drafts side by side ----------------------------------
    page.fill("#prompt", PROMPT)
    page.fill("#candidates", "2")
    page.select_option("#size", "256")
    page.fill("#seed", "7")
    page.fill("#session-name", "studio e2e")
    page.set_input_files("#start-target-input", str(plan.target))
    expect(page.locator("#start-target-thumbs img")).to_be_visible()
    run_job(page, "#start-button")
    expect(page.locator("#candidates-row figure")).to_have_count(2)
    expect(page.locator("#progress")).to_be_hidden()
    expect(page.locator("#offline-banner")).to_contain_text("offline profile")
    expect(page.locator("#session-meta .badge.offline")).to_have_text("offline profile")
    shot(page, shots, "01-drafts")
    session_id = current_session_id(page)

    # -- pick a draft: the workbench opens with the analyzer's suggestions and the scores -------------------
    run_job(page, button="Pick candidate 2")
    expect(page.locator("#workbench")).to_be_visible()
    expect(page.locator("#candidates-row figure.chosen figcaption")).to_contain_text("candidate 2")
    expect(page.locator("#guidance button.suggestion").first).to_be_visible()
    expect(page.locator("#guidance table.scores")).to_contain_text("PSNR")
    expect(page.locator("#guidance table.scores")).to_contain_text("dB")
    expect(page.locator("#guidance table.scores")).to_contain_text("CLIP")  # reported as not computed, with the reason
    shot(page, shots, "02-picked")
    assert session_json(studio, session_id)["draft"]["chosen"] == 1

    # -- a text round (text-as-prompt) -----------------------------------------------------------------------
    page.fill("#instruction", "make the blazer navy")
    expect(page.locator("#round-kind")).to_contain_text("text-as-prompt")
    run_job(page, "#round-button")
    wait_round_done(page, 1)
    round1 = page.locator('#timeline li[data-round="1"]')
    expect(round1).to_contain_text("text-as-prompt (Vanilla)")
    expect(round1).to_contain_text("make the blazer navy")
    expect(round1.locator(".badge.offline").first).to_be_visible()
    expect(round1).to_contain_text("edit ")  # timings
    shot(page, shots, "03-text-round")

    # -- upload a reference, drag a box with the mouse, move it, resize it, clear it, draw it again ---------------
    page.set_input_files("#ref-input", str(plan.rounds[1].references[0]))
    expect(page.locator("#ref-thumbs img")).to_have_count(1)
    expect(page.locator("#round-kind")).to_contain_text("image-into-prompt (BUG)")
    drag(page, canvas_point(page, 0.20, 0.40), canvas_point(page, 0.40, 0.60))
    expect(page.locator("#draw-box")).to_be_visible()
    drawn = box_values(page)
    assert all(abs(a - b) <= 6 for a, b in zip(drawn, [200, 400, 400, 600])), drawn
    drag(page, canvas_point(page, 0.30, 0.50), canvas_point(page, 0.35, 0.45))  # move: grab the middle
    moved = box_values(page)
    assert abs(moved[0] - drawn[0] - 50) <= 6 and abs(moved[1] - drawn[1] + 50) <= 6, moved
    assert moved[2] - moved[0] == drawn[2] - drawn[0] and moved[3] - moved[1] == drawn[3] - drawn[1]
    handle = page.locator("#draw-box .handle.se").bounding_box()
    drag(page, (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2), canvas_point(page, 0.50, 0.62))
    resized = box_values(page)
    assert resized[:2] == moved[:2] and abs(resized[2] - 500) <= 6 and abs(resized[3] - 620) <= 6, resized
    page.focus("#canvas")  # the keyboard moves and resizes the box too
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    keyed = box_values(page)
    assert keyed == [resized[0], resized[1] + 10, resized[2] + 10, resized[3] + 10], keyed
    page.click("#box-clear")
    expect(page.locator("#draw-box")).to_be_hidden()
    assert box_values(page) == [-1, -1, -1, -1]
    drag(page, canvas_point(page, 0.227, 0.443), canvas_point(page, 0.365, 0.557))
    box = box_values(page)
    assert all(abs(a - b) <= 6 for a, b in zip(box, [227, 443, 365, 557])), box
    page.fill("#instruction", plan.rounds[1].instruction)
    shot(page, shots, "04-reference-and-box")

    # -- the BUG round (image-into-prompt) ---------------------------------------------------------------------
    run_job(page, "#round-button")
    wait_round_done(page, 2)
    round2 = page.locator('#timeline li[data-round="2"]')
    expect(round2).to_contain_text("image-into-prompt (BUG)")
    expect(round2.locator("figcaption", has_text="reference 1")).to_contain_text("reference.png")
    expect(round2.locator(".box")).to_have_count(1)
    saved = session_json(studio, session_id)["rounds"][1]
    assert saved["mode"] == "text+image" and len(saved["references"]) == 1
    assert [round(v) for v in saved["target_box"]] == box
    shot(page, shots, "05-bug-round")

    # -- click a suggestion: instruction, crop reference and box fill the next round ------------------------------
    suggestion = page.locator("#guidance button.suggestion").first
    suggestion.hover()
    expect(page.locator("#hint-box")).to_be_visible()
    description = suggestion.locator(".text").inner_text().splitlines()[0]
    suggestion.click()
    assert page.input_value("#instruction") == description
    expect(page.locator("#ref-thumbs figcaption")).to_contain_text("crop of suggestion 1")
    assert box_values(page) != [-1, -1, -1, -1]
    suggested_box = box_values(page)
    run_job(page, "#round-button")
    wait_round_done(page, 3)
    saved = session_json(studio, session_id)["rounds"][2]
    assert saved["from_suggestion"] == 1 and len(saved["references"]) == 1 and saved["instruction"] == description
    assert [round(v) for v in saved["target_box"]] == suggested_box
    shot(page, shots, "06-suggestion-round")

    # -- compare two rounds side by side, with the before/after slider ---------------------------------------------
    page.select_option("#compare-a", "1")
    page.select_option("#compare-b", "3")
    page.fill("#compare-slider", "30")
    view = page.locator("#compare-view")
    expect(view.locator("figcaption").first).to_have_text("round 1")
    expect(view.locator("figcaption").nth(1)).to_have_text("round 3")
    expect(view.locator(".slider .line")).to_have_attribute("style", re.compile(r"left: 30%"))
    images_ok = page.evaluate("[...document.querySelectorAll('#compare-view img')].every(i => i.complete && i.naturalWidth > 0)")
    assert images_ok
    page.locator("#compare-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "07-compare.png"))

    # -- export: the CLI's self-contained HTML, downloaded -----------------------------------------------------------
    with page.expect_download() as download_info:
        page.click("#export-link")
    download = download_info.value
    exported = shots / download.suggested_filename
    download.save_as(str(exported))
    html = exported.read_text(encoding="utf-8")
    assert "offline profile" in html and html.count('src="data:image/png;base64,') >= 6 and "Round 3" in html
    assert download.suggested_filename == f"fashionedit-{session_id}.html"

    # -- branch from round 1: a new session with the draft and round 1 --------------------------------------------
    page.get_by_role("button", name="Branch from round 1").click()
    page.wait_for_function(f"location.hash.slice(1) !== {json.dumps(session_id)}")
    branch_id = current_session_id(page)
    expect(page.locator("#session-meta")).to_contain_text(f"branched from {session_id} at round 1")
    expect(page.locator("#timeline li[data-round]")).to_have_count(1)
    page.fill("#instruction", "make the blazer burgundy")
    run_job(page, "#round-button")
    wait_round_done(page, 2)
    shot(page, shots, "08-branch")
    assert len(session_json(studio, session_id)["rounds"]) == 3  # the parent is untouched
    assert session_json(studio, branch_id)["branched_from"] == {"session_id": session_id, "round": 1}

    # -- edit a round (new instruction and box), retry it as it was, drop it, undo the one before ----------------
    first_output = session_json(studio, branch_id)["rounds"][1]["output"]["sha256"]
    page.get_by_role("button", name="Edit round 2").click()
    assert page.input_value("#instruction") == "make the blazer burgundy"
    expect(page.locator("#workbench-heading")).to_have_text("Edit round 2: it edits the round 1 design")
    page.fill("#instruction", "make the blazer dark green")
    drag(page, canvas_point(page, 0.05, 0.15), canvas_point(page, 0.50, 0.85))
    edited_box = box_values(page)
    run_job(page, "#round-button")
    wait_round_done(page, 2)
    edited = session_json(studio, branch_id)["rounds"][1]
    assert edited["instruction"] == "make the blazer dark green" and [round(v) for v in edited["target_box"]] == edited_box
    assert edited["output"]["sha256"] != first_output
    expect(page.locator('#timeline li[data-round="2"]')).to_contain_text("make the blazer dark green")
    attempts = edited["attempts"]
    run_job(page, button="Retry round 2")
    wait_round_done(page, 2)
    retried = session_json(studio, branch_id)["rounds"][1]
    assert retried["attempts"] == attempts + 1 and retried["instruction"] == "make the blazer dark green"
    expect(page.get_by_role("button", name="Drop round 1")).to_have_count(0)  # round 2 builds on it
    page.get_by_role("button", name="Drop round 2").click()
    expect(page.locator("#timeline li[data-round]")).to_have_count(1)
    assert len(session_json(studio, branch_id)["rounds"]) == 1
    shot(page, shots, "09-dropped")
    page.click("#undo-button")
    expect(page.locator("#timeline li[data-round]")).to_have_count(0)
    assert session_json(studio, branch_id)["rounds"] == []
    expect(page.locator("#workbench-heading")).to_have_text("Round 1: edit the draft design")

    # -- the same page on a tablet ----------------------------------------------------------------------------------
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{studio.url}/#{session_id}")
    expect(page.locator('#timeline li[data-round="3"]')).to_be_visible()
    shot(page, shots, "10-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_bad_input_gives_a_clear_message_and_loses_nothing(page, studio, shots, tmp_path, service_stack, black_hole):
    from .conftest import start_studio

    page.goto(studio.url)
    page.click("#new-session")
    # an empty description
    page.click("#start-button")
    expect(page.locator("#error-text")).to_have_text("describe the garment first: the description is the draft's prompt")
    page.fill("#prompt", "a black wool coat with two pockets")
    page.fill("#seed", "11")
    page.fill("#candidates", "1")
    page.select_option("#size", "256")
    run_job(page, "#start-button")
    expect(page.locator("#workbench")).to_be_visible()
    expect(page.locator("#progress")).to_be_hidden()
    session_id = current_session_id(page)

    # a file that is not an image: refused at upload, the form keeps what was typed and uploaded
    page.fill("#instruction", "add a red collar")
    page.set_input_files("#ref-input", str(demo_script().rounds[1].references[0]))
    expect(page.locator("#ref-thumbs img")).to_have_count(1)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    page.set_input_files("#ref-input", str(notes))
    expect(page.locator("#error-text")).to_contain_text("notes.txt is not an image the services accept")
    assert page.input_value("#instruction") == "add a red collar"
    expect(page.locator("#ref-thumbs img")).to_have_count(1)

    # a box of zero area (a click without a drag): refused before anything is sent
    x, y = canvas_point(page, 0.5, 0.5)
    page.mouse.click(x, y)
    page.click("#round-button")
    expect(page.locator("#error-text")).to_contain_text("has no area")
    # the same box typed past the page's check reaches the studio, which refuses it with the contract's words
    answer = httpx.post(
        f"{studio.url}/api/sessions/{session_id}/rounds",
        json={"instruction": "add a red collar", "box": [500, 500, 500, 500]},
        timeout=30,
    )
    assert answer.status_code == 422 and "zero or negative area" in answer.json()["error"]["message"]
    assert session_json(studio, session_id)["rounds"] == []
    shot(page, shots, "11-bad-input")

    # a service that is down: a studio whose editor accepts connections and never answers
    dead = start_studio(
        studio.sessions_dir,
        tmp_path / "dead-editor.log",
        {
            **service_stack.client_env(),
            "FASHIONEDIT_EDITOR_URL": black_hole,
            "FASHIONEDIT_MAX_ATTEMPTS": "1",
            "FASHIONEDIT_EDIT_TIMEOUT_S": "6",
        },
    )
    try:
        page.goto(f"{dead.url}/#{session_id}")
        expect(page.locator("#services li.down")).to_contain_text("editor: down")
        page.fill("#instruction", "add a red collar")
        page.set_input_files("#ref-input", str(demo_script().rounds[1].references[0]))
        expect(page.locator("#ref-thumbs img")).to_have_count(1)
        drag(page, canvas_point(page, 0.15, 0.35), canvas_point(page, 0.30, 0.65))  # the collar
        page.click("#round-button")
        # while the call runs: which service, which step, how long
        expect(page.locator("#progress-text")).to_contain_text(
            re.compile(r"^editor · round 1: editing \(image-into-prompt\) · \d+\.\d s")
        )
        page.wait_for_function("/\\(editor [2-9]\\.\\d s\\)/.test(document.getElementById('progress-text').textContent)")
        shot(page, shots, "12-progress")
        expect(page.locator("#error-text")).to_contain_text(f"the editor at {black_hole} did not answer within 6s")
        assert "Traceback" not in page.content()
        round1 = page.locator('#timeline li[data-round="1"]')
        expect(round1).to_contain_text("add a red collar")  # what was typed and uploaded is kept in the round
        expect(round1.locator("figcaption", has_text="reference 1")).to_be_visible()
        expect(round1.locator(".error")).to_contain_text("did not answer within 6s")
        expect(round1.locator(".badge.fail")).to_have_text("pending")  # the round is kept, to finish later
        expect(page.locator("#resume-button")).to_be_visible()
        expect(page.locator("#blocking-notice")).to_contain_text("Round 1 is pending")
        shot(page, shots, "13-service-down")
    finally:
        dead.server.stop()

    # back on the working studio, the kept round finishes
    page.goto(f"{studio.url}/#{session_id}")
    run_job(page, "#resume-button")
    wait_round_done(page, 1)
    saved = session_json(studio, session_id)["rounds"]
    assert len(saved) == 1 and saved[0]["status"] == "done" and len(saved[0]["references"]) == 1


def _cli(studio, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fashionedit.client", *args],
        check=False,
        env=studio.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_session_moves_between_the_studio_and_the_cli(page, studio, shots):
    # started in the studio ...
    page.goto(studio.url)
    page.click("#new-session")
    page.fill("#prompt", "a white cotton shirt with a pointed collar")
    page.fill("#candidates", "1")
    page.select_option("#size", "256")
    run_job(page, "#start-button")
    expect(page.locator("#workbench")).to_be_visible()
    expect(page.locator("#progress")).to_be_hidden()
    session_id = current_session_id(page)
    page.fill("#instruction", "make the shirt navy")
    run_job(page, "#round-button")
    wait_round_done(page, 1)

    # ... continued with the CLI ...
    result = _cli(studio, "session", "round", session_id, "-i", "make the shirt burgundy")
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(_cli(studio, "session", "show", session_id, "--json").stdout)
    assert [r["instruction"] for r in shown["rounds"]] == ["make the shirt navy", "make the shirt burgundy"]

    # ... and the studio sees it and goes on
    page.reload()
    wait_round_done(page, 2)
    expect(page.locator('#timeline li[data-round="2"]')).to_contain_text("make the shirt burgundy")
    page.fill("#instruction", "add the gold buttons shown in the reference")
    drop_file(page, "#ref-zone", demo_script().rounds[1].references[0])  # dropped onto the page, not chosen
    expect(page.locator("#ref-thumbs img")).to_have_count(1)
    drag(page, canvas_point(page, 0.25, 0.44), canvas_point(page, 0.40, 0.56))  # where the buttons go
    run_job(page, "#round-button")
    wait_round_done(page, 3)
    expect(page.locator('#timeline li[data-round="3"]')).to_contain_text("image-into-prompt (BUG)")
    shown = json.loads(_cli(studio, "session", "show", session_id, "--json").stdout)
    assert shown["rounds"][2]["mode"] == "text+image" and len(shown["rounds"][2]["references"]) == 1

    # a session the CLI starts opens in the studio
    result = _cli(studio, "session", "new", "a grey hoodie with a kangaroo pocket", "--size", "256", "--name", "from-cli")
    assert result.returncode == 0, result.stdout + result.stderr
    page.goto(studio.url)
    link = page.locator("#session-list a", has_text="from-cli")
    link.click()
    expect(page.locator("#session-title")).to_have_text("from-cli")
    expect(page.locator("#workbench")).to_be_visible()
    page.fill("#instruction", "make the hoodie navy")
    run_job(page, "#round-button")
    wait_round_done(page, 1)
    cli_id = current_session_id(page)
    # a target set afterwards, dropped on the page: every step is scored and the next edits proposed
    drop_file(page, "#target-zone", demo_script().target)
    expect(page.locator("#target-view img")).to_be_visible()
    expect(page.locator("#guidance button.suggestion").first).to_be_visible()
    expect(page.locator('#timeline li[data-round="1"] details.round-guidance summary')).to_contain_text("PSNR")
    shown = json.loads(_cli(studio, "session", "show", cli_id, "--json").stdout)
    assert shown["name"] == "from-cli" and shown["rounds"][0]["status"] == "done"
    shot(page, shots, "14-from-cli")
