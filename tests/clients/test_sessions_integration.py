"""Design sessions through the real services: a full session, branching, and resume after SIGKILL mid-round."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from fashionedit.client import FashionEditClient
from fashionedit.client.demo import demo_script
from fashionedit.client.design import DesignSessions
from fashionedit.client.session import RoundStatus, SessionStore

pytestmark = pytest.mark.integration


@pytest.fixture
def designs(service_stack, tmp_path):
    client = FashionEditClient(service_stack.client_settings(sessions_dir=tmp_path / "sessions"))
    yield DesignSessions(SessionStore(tmp_path / "sessions"), client)
    client.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_full_session_with_guidance_suggestions_and_branching(designs, tmp_path):
    plan = demo_script()
    session = designs.start(plan.prompt, candidates=2, target=plan.target, seed=7, width=256, height=256, name="full")
    assert session.draft.chosen is None and len(session.draft.candidates) == 2
    session = designs.pick(session, 0)
    assert session.draft.guidance.scores.pair.psnr is not None
    draft_suggestions = session.draft.guidance.analysis.suggestions
    assert draft_suggestions and all(s.crop is not None for s in draft_suggestions)
    # The crop shown is the readable window around the box; the reference an editor gets is the box itself.
    target = Image.open(designs.store.image_path(session, session.target)).convert("RGB")
    first = draft_suggestions[0]
    exact = target.crop(tuple(first.box_2d.to_pixels(*target.size)))
    shown = Image.open(designs.store.image_path(session, first.crop))
    assert shown.width >= min(96, target.width) and shown.height >= min(96, target.height)
    probe = designs.add_round(session, suggestion=1)
    given = Image.open(designs.store.image_path(probe, probe.rounds[0].references[0])).convert("RGB")
    assert given.size == exact.size and list(given.getdata()) == list(exact.getdata())
    session = designs.undo(probe)

    session = designs.add_round(session, "make the blazer navy")
    reference = plan.rounds[1]
    session = designs.add_round(session, reference.instruction, references=reference.references, target_box=reference.target_box)
    assert [r.status for r in session.rounds] == [RoundStatus.DONE, RoundStatus.DONE]
    assert [r.mode.value for r in session.rounds] == ["text", "text+image"]
    # Guidance on the paper's terms: the navy round moves the design towards the navy target.
    assert session.rounds[0].guidance.scores.pair.psnr > session.draft.guidance.scores.pair.psnr
    if session.rounds[1].guidance.analysis.suggestions:
        session = designs.add_round(session, suggestion=1)
        assert session.rounds[2].references and session.rounds[2].from_suggestion == 1

    store = designs.store
    for round_ in session.rounds:
        assert sha(store.image_path(session, round_.output)) == round_.output.sha256
    parent_rounds = len(session.rounds)

    branch = store.branch(session.id, 1, name="alt")
    branch = designs.add_round(branch, "make the blazer burgundy")
    assert len(branch.rounds) == 2 and branch.rounds[1].status is RoundStatus.DONE
    assert branch.rounds[0].output.sha256 == session.rounds[0].output.sha256  # shared history kept
    assert branch.rounds[1].output.sha256 != session.rounds[1].output.sha256
    assert len(store.load(session.id).rounds) == parent_rounds  # the parent is untouched
    assert {s.id for s in store.list()} == {session.id, branch.id}


def _cli(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fashionedit.client", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the CLI exited early ({proc.returncode}): {proc.stdout.read()}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("timed out waiting for the session file")


def _state(folder: Path) -> dict:
    return json.loads((folder / "session.json").read_text())


def test_resume_after_sigkill_mid_round_loses_nothing(designs, service_stack, black_hole, tmp_path):
    plan = demo_script()
    session = designs.start(plan.prompt, target=plan.target, seed=7, width=256, height=256)
    session = designs.add_round(session, "make the blazer navy")
    folder = designs.store.folder(session.id)
    round1_sha = session.rounds[0].output.sha256
    env = {**os.environ, **service_stack.client_env(), "FASHIONEDIT_SESSIONS_DIR": str(tmp_path / "sessions")}

    # 1. Killed while the editor works on round 2 (the editor never answers): round 1 and round 2's
    #    saved intent and reference survive, and the session file is whole.
    ref = tmp_path / "button.png"
    Image.open(plan.rounds[1].references[0]).save(ref)
    proc = _cli(
        ["session", "round", session.id, "-i", "add the gold buttons", "--ref", str(ref), "--box", "227,443,365,557"],
        {**env, "FASHIONEDIT_EDITOR_URL": black_hole},
    )
    _wait_for(lambda: len(_state(folder)["rounds"]) == 2, proc)
    time.sleep(0.3)  # the request is in flight now
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    state = _state(folder)
    assert state["rounds"][0]["status"] == "done" and state["rounds"][0]["output"]["sha256"] == round1_sha
    assert state["rounds"][1]["status"] == "pending"
    assert sha(folder / state["rounds"][1]["references"][0]["path"]) == sha(ref)
    assert not list(folder.rglob("*.tmp"))

    # 2. Killed after the editor answered, while the scorer hangs: the edited image is kept.
    resumed = _cli(["session", "resume", session.id], {**env, "FASHIONEDIT_SCORER_URL": black_hole})
    _wait_for(lambda: _state(folder)["rounds"][1]["status"] == "edited", resumed)
    resumed.send_signal(signal.SIGKILL)
    resumed.wait(timeout=10)
    state = _state(folder)
    edited = state["rounds"][1]["output"]
    assert sha(folder / edited["path"]) == edited["sha256"] and state["rounds"][1]["attempts"] == 1

    # 3. Resume with every service reachable: only the missing guidance is done; nothing is redone.
    done = subprocess.run(
        [sys.executable, "-m", "fashionedit.client", "session", "resume", session.id],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    final = designs.store.load(session.id)
    assert [r.status for r in final.rounds] == [RoundStatus.DONE, RoundStatus.DONE]
    assert final.rounds[0].output.sha256 == round1_sha
    assert final.rounds[1].output.sha256 == edited["sha256"] and final.rounds[1].attempts == 1
    assert final.rounds[1].guidance.scores is not None and final.rounds[1].mode.value == "text+image"
    assert "offline profile" in done.stdout
