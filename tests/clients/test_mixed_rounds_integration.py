"""Design sessions in mixed order through the `fashionedit` CLI over real `bentoml serve` processes (offline profile).

Each round is checked in pixels: it changes what it should (inside its box, or the garment part it names)
and leaves the rest of the design as the round before left it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fashionedit.client.cli import app
from fashionedit.client.demo import demo_script
from fashionedit.contracts import Box2D
from tests.clients.conftest import CHROMIUM, CHROMIUM_FLAGS, chromium_image_check

pytestmark = pytest.mark.integration

BUTTONS_BOX = "[227, 443, 365, 557]"  # where the demo's gold-button reference belongs (the format `session show` prints)
TOLERANCE = 8  # levels per channel, as the client's no-op measure


class Session:
    """A session driven only through the CLI, read back from its session.json."""

    def __init__(self, service_stack, root: Path) -> None:
        self.env = {**service_stack.client_env(), "FASHIONEDIT_SESSIONS_DIR": str(root), "COLUMNS": "200"}
        self.root = root
        self.id: str | None = None

    def cli(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, [str(a) for a in args], env=self.env)
        assert result.exit_code == code, result.output
        return result.output

    def new(self, prompt: str, *extra: str) -> str:
        output = self.cli("session", "new", prompt, "--size", "256", "--seed", "7", *extra)
        self.id = json.loads(self.cli("session", "show", "latest", "--json"))["id"]
        return output

    def round(self, *args: str, code: int = 0) -> str:
        return self.cli("session", "round", self.id, *args, code=code)

    @property
    def state(self) -> dict:
        return json.loads((self.root / self.id / "session.json").read_text())

    def image(self, step: int) -> np.ndarray:
        state = self.state
        if step == 0:
            stored = state["draft"]["candidates"][state["draft"]["chosen"]]["image"]
        else:
            stored = state["rounds"][step - 1]["output"]
        with Image.open(self.root / self.id / stored["path"]) as img:
            return np.asarray(img.convert("RGB"), dtype=np.int16)


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(after - before).max(axis=2) > TOLERANCE


SEAM = 4  # pixels: the placement feathers its seam this far around a reference's box


def box_mask(box: str | list[float], shape: tuple[int, ...], grow: int = 0) -> np.ndarray:
    values = [float(v) for v in box.strip("[]").replace(",", " ").split()] if isinstance(box, str) else box
    x0, y0, x1, y1 = Box2D(tuple(values)).to_pixels(shape[1], shape[0])
    mask = np.zeros(shape[:2], bool)
    mask[max(0, y0 - grow) : y1 + grow, max(0, x0 - grow) : x1 + grow] = True
    return mask


def fraction(mask: np.ndarray, where: np.ndarray) -> float:
    return float(mask[where].mean()) if where.any() else 0.0


def gold_pixels(image: np.ndarray, where: np.ndarray) -> int:
    r, g, b = (image[..., c] for c in range(3))
    return int(((r > 150) & (g > 100) & (b < 100) & (r > b + 80))[where].sum())


def assert_text_round(s: Session, step: int, *, part_colour: tuple[str, str] | None = None) -> np.ndarray:
    """A text round on a flat changes the part it names (the editor's applied box) and nothing else."""
    round_ = s.state["rounds"][step - 1]
    assert round_["status"] == "done" and round_["mode"] == "text" and not round_["change"]["no_op"], round_
    before, after = s.image(step - 1), s.image(step)
    diff = changed(before, after)
    inside = box_mask(round_["applied_box"], before.shape)
    assert fraction(diff, inside) > 0.05 and fraction(diff, ~inside) < 0.005, (fraction(diff, inside), fraction(diff, ~inside))
    assert round_["change"]["changed_fraction"] == pytest.approx(float(diff.mean()), abs=0.002)  # the client measures the same
    if part_colour is not None:
        pixels = after[diff]
        r, g, b = pixels.mean(axis=0)
        if part_colour[1] == "navy":
            assert b > r + 30 and b > g + 20, (r, g, b)
        elif part_colour[1] == "grey":
            assert max(r, g, b) - min(r, g, b) < 25 and 60 < r < 200, (r, g, b)
    return diff


def assert_reference_round(s: Session, step: int, box: str | None) -> np.ndarray:
    """A reference round changes the design inside its box (given, or where the editor placed it) and nothing outside."""
    round_ = s.state["rounds"][step - 1]
    assert round_["status"] == "done" and round_["mode"] == "text+image" and not round_["change"]["no_op"], round_
    before, after = s.image(step - 1), s.image(step)
    diff = changed(before, after)
    inside = box_mask(box or round_["applied_box"], before.shape)
    outside = ~box_mask(box or round_["applied_box"], before.shape, grow=SEAM)
    assert fraction(diff, inside) > 0.1 and fraction(diff, outside) < 0.002, (fraction(diff, inside), fraction(diff, outside))
    return inside


@pytest.fixture
def s(service_stack, tmp_path) -> Session:
    return Session(service_stack, tmp_path / "sessions")


@pytest.fixture
def plan():
    return demo_script()


def test_text_then_reference_with_a_box_and_without(s, plan, tmp_path):
    s.new(plan.prompt)
    s.round("-i", "make the blazer navy")
    assert_text_round(s, 1, part_colour=("blazer", "navy"))
    s.round("-i", plan.rounds[1].instruction, "--ref", plan.rounds[1].references[0], "--box", BUTTONS_BOX)
    assert_reference_round(s, 2, BUTTONS_BOX)
    # Without a box the editor finds where the reference belongs: a detail crop of the design itself, with a mark drawn in.
    design = Image.fromarray(s.image(2).astype(np.uint8))
    crop = design.crop((150, 40, 200, 90)).copy()
    crop.paste((200, 30, 30), (18, 18, 32, 32))
    ref = tmp_path / "detail.png"
    crop.save(ref)
    shown = s.round("-i", "add this detail from the reference", "--ref", ref)  # no colour or place words: the picture decides
    assert "text+image" in shown and "offline profile" in shown
    assert_reference_round(s, 3, None)
    ys, xs = np.nonzero(changed(s.image(2), s.image(3)))
    margin = 2 * SEAM  # the crop's own edge, feathered
    assert (
        150 - margin <= xs.min() and xs.max() < 200 + margin and 40 - margin <= ys.min() and ys.max() < 90 + margin
    )  # where the crop came from


def test_text_reference_text(s, plan):
    s.new(plan.prompt)
    s.round("-i", "make the blazer navy")
    s.round("-i", plan.rounds[1].instruction, "--ref", plan.rounds[1].references[0], "--box", BUTTONS_BOX)
    buttons = assert_reference_round(s, 2, BUTTONS_BOX)
    s.round("-i", "make the trousers grey")
    diff = assert_text_round(s, 3, part_colour=("trousers", "grey"))
    assert fraction(diff, buttons) < 0.01  # the placed buttons survive the text round
    after = s.image(3)
    blazer = box_mask(s.state["rounds"][0]["applied_box"], after.shape) & ~box_mask(
        s.state["rounds"][2]["applied_box"], after.shape
    )
    assert fraction(changed(s.image(2), after), blazer) < 0.005  # and so does the navy blazer


def test_reference_text_reference_text(s, plan, tmp_path):
    s.new(plan.prompt)
    s.round("-i", plan.rounds[1].instruction, "--ref", plan.rounds[1].references[0], "--box", BUTTONS_BOX)
    buttons = assert_reference_round(s, 1, BUTTONS_BOX)
    s.round("-i", "make the blazer navy")
    assert_text_round(s, 2, part_colour=("blazer", "navy"))
    # The blazer under the buttons turns navy; the gold buttons themselves stay.
    assert gold_pixels(s.image(2), buttons) >= 0.5 * gold_pixels(s.image(1), buttons) > 0
    pocket = Image.open(plan.target).convert("RGB").crop((280, 70, 320, 110))
    ref = tmp_path / "pocket.png"
    pocket.save(ref)
    pocket_box = "100 540 220 640"
    s.round("-i", "add this detail from the reference", "--ref", ref, "--box", pocket_box)  # no part words: the box decides
    pocket_mask = assert_reference_round(s, 3, pocket_box)
    s.round("-i", "make the trousers grey")
    diff = assert_text_round(s, 4, part_colour=("trousers", "grey"))
    assert fraction(diff, buttons | pocket_mask) < 0.01


def test_a_failed_round_then_a_new_instruction_retry_drop_and_undo(s, plan):
    s.new(plan.prompt)
    failed = s.round("-i", "dance the tango", code=1)
    assert "not understood" in failed and "session retry" in failed and "session drop" in failed
    assert s.state["rounds"][0]["status"] == "failed"
    # A new instruction does not silently re-run (or drop) the failed round: it says what to do.
    refused = s.round("-i", "make the blazer navy", code=1)
    assert "round 1 is failed" in refused and "--replace" in refused and len(s.state["rounds"]) == 1
    s.round("-i", "make the blazer navy", "--replace")
    assert [r["instruction"] for r in s.state["rounds"]] == ["make the blazer navy"]
    assert_text_round(s, 1, part_colour=("blazer", "navy"))

    # Retry a failed round with a new instruction.
    s.round("-i", "paint it with moonlight", code=1)
    s.cli("session", "retry", s.id, "2", "-i", "make the trousers grey")
    assert s.state["rounds"][1]["attempts"] == 2 and s.state["rounds"][1]["instruction"] == "make the trousers grey"
    assert_text_round(s, 2, part_colour=("trousers", "grey"))
    # Retry the last (done) round as it was: same result, history kept.
    first = s.state["rounds"][1]["output"]
    s.cli("session", "retry", s.id, "2")
    assert s.state["rounds"][1]["output"]["sha256"] == first["sha256"] and (s.root / s.id / first["path"]).is_file()
    # Drop refuses a done round others build on; undo takes the last one off.
    assert "only a failed or pending round, or the last" in s.cli("session", "drop", s.id, "1", code=1)
    s.cli("session", "undo", s.id)
    assert len(s.state["rounds"]) == 1
    s.round("-i", "dance the tango", code=1)
    s.cli("session", "drop", s.id, "2")
    assert [r["status"] for r in s.state["rounds"]] == ["done"]
    listing = s.cli("session", "list")
    assert "1 done" in listing and "offline profile" in listing


def test_warnings_and_no_op_reach_the_cli_the_session_file_and_the_page(s, tmp_path):
    shown = s.new("a kimono with dragon embroidery")
    draft_warnings = s.state["draft"]["warnings"]
    assert any("dragon" in w for w in draft_warnings) and all(w in shown for w in draft_warnings)
    edited = s.round("-i", "make the blazer navy with moonlight")
    round_warnings = s.state["rounds"][0]["warnings"]
    assert any("moonlight" in w for w in round_warnings) and all(w in edited for w in round_warnings)
    assert_text_round(s, 1)
    # A reference that is the design's own detail, placed where it is: understood, and changes nothing.
    same = tmp_path / "same.png"
    Image.fromarray(s.image(1).astype(np.uint8)).crop((96, 32, 160, 96)).save(
        same
    )  # x 96-160, y 32-96: exactly box_2d [125, 375, 375, 625]
    noop = s.round("-i", "add the detail shown in the reference", "--ref", same, "--box", "125 375 375 625")
    round_ = s.state["rounds"][1]
    assert round_["status"] == "done" and round_["change"]["no_op"] and round_["change"]["changed_fraction"] < 0.001, round_
    assert (s.root / s.id / round_["output"]["path"]).is_file()  # the image is kept
    assert "round 2 is a no-op" in noop and "of the pixels (under the 0.1% no-op threshold) and 0.00% inside its box" in noop
    page = tmp_path / "page.html"
    s.cli("session", "export", s.id, "--out", page)
    html = page.read_text()
    for warning in draft_warnings + round_warnings:
        assert warning.replace("'", "&#x27;") in html
    assert 'class="badge noop">no-op<' in html and "offline profile" in html
    assert chromium_image_check(page, tmp_path)["broken"] == []
    if CHROMIUM:
        text = subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'dom'}", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        assert "dragon" in text and "moonlight" in text and "no-op" in text
