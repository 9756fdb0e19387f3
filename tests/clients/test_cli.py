"""The `fashionedit` command: --help everywhere, the demo (the main job) with its HTML in Chromium, and `up`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from fashionedit.client.cli import app
from tests.clients.conftest import chromium_image_check, chromium_screenshot
from tests.support.servers import free_port

COMMANDS = [[], ["up"], ["status"], ["demo"], ["session"]] + [
    ["session", name]
    for name in ("new", "round", "retry", "drop", "undo", "resume", "pick", "target", "show", "list", "branch", "export")
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "fashionedit")
def test_help_everywhere(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "--help" in result.output


def _documented_uses(doc: str, command: list[str]) -> list[str]:
    """Each use of ``fashionedit <command>`` in a doc's code: the line, its indented continuations, comments cut."""
    uses, lines = [], doc.splitlines()
    for number, line in enumerate(lines):
        if line.startswith(f"fashionedit {' '.join(command)} "):
            text = line
            for following in lines[number + 1 :]:
                if not following.startswith((" ", "\t")):
                    break
                text += " " + following
            uses.append(re.sub(r"\s#.*?(?=\s{2,}|$)", " ", text))
    return uses


@pytest.mark.parametrize("command", [["dataset", "build"], ["bench", "run"]], ids=" ".join)
def test_the_documented_options_exist(command):
    """Every option docs/dataset_and_benchmark.md uses with a command is one the command takes."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "dataset_and_benchmark.md").read_text()
    uses = _documented_uses(doc, command)
    assert uses
    documented = {flag for use in uses for flag in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", use)}
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    taken = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", result.output))
    assert documented <= taken, f"documented but not accepted: {sorted(documented - taken)}"


def test_errors_are_messages_not_tracebacks(tmp_path):
    result = CliRunner().invoke(app, ["session", "show", "nope", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "no session 'nope'" in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def demo_run(service_stack, tmp_path_factory):
    """`fashionedit demo` once, as the README runs it (a space in the path must not break links)."""
    out = tmp_path_factory.mktemp("demo") / "demo out"
    env = {**os.environ, **service_stack.client_env(), "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "fashionedit.client", "demo", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return out, run


@pytest.mark.integration
def test_demo_runs_a_mixed_order_session_and_its_page_shows_every_image(demo_run, tmp_path):
    out, run = demo_run
    printed = run.stdout
    assert "offline profile" in printed and "using the services at" in printed, printed + run.stderr
    page = Path(re.search(r"HTML page: (.+?\.html)", printed).group(1))
    assert page == out / "session.html" and page.is_file()

    session = json.loads(next((out / "sessions").glob("*/session.json")).read_text())
    # text, reference, then text again; the first two are done whatever the editor does with the third.
    assert [r["references"] != [] for r in session["rounds"]] == [False, True, False]
    assert [r["mode"] for r in session["rounds"][:2]] == ["text", "text+image"]
    assert all(r["status"] == "done" for r in session["rounds"][:2])
    assert all(r["guidance"]["scores"]["pair"]["psnr"] is not None for r in session["rounds"][:2])
    assert session["draft"]["guidance"]["analysis"]["suggestions"]
    third = session["rounds"][2]
    assert (run.returncode == 0) == (third["status"] == "done")  # a failed round is reported, with exit 1, not hidden
    if third["status"] != "done":
        assert "the demo stopped at a failed round" in printed and third["error"]

    html = page.read_text()
    n_img = html.count("<img ")
    assert (
        n_img >= 12 and "offline profile" in html and "image-into-prompt" in html and html.count("text-as-prompt (Vanilla)") == 2
    )
    check = chromium_image_check(page, tmp_path)
    assert check == {"total": n_img, "broken": []}

    shot = chromium_screenshot(page, tmp_path / "demo.png", tmp_path, size="1280,3200")
    with Image.open(shot) as img:
        assert img.size == (1280, 3200)
        colours = img.convert("RGB").resize((64, 160)).getcolors(64 * 160)
        assert len(colours) > 50  # a rendered page with images, not a blank or error page
        # The navy of round 1's result is on the page (the flats render it as RGB ~ (30, 40, 90)).
        assert any(b > r + 30 and b > g + 20 and r < 80 for _, (r, g, b) in colours)


@pytest.mark.integration
def test_demo_third_round_edits_the_reference_rounds_design(demo_run):
    out, run = demo_run
    assert run.returncode == 0, run.stdout + run.stderr
    session = json.loads(next((out / "sessions").glob("*/session.json")).read_text())
    third = session["rounds"][2]
    assert third["status"] == "done" and third["mode"] == "text" and not third["change"]["no_op"]
    assert third["change"]["changed_fraction"] < 0.5  # an edit of the trousers, not a new picture


def test_up_keeps_the_other_services_running_when_one_exits(tmp_path, capsys):
    from fashionedit.client.cli import watch_services
    from fashionedit.client.local import LocalServices

    stack = LocalServices(tmp_path, services=["generator", "scorer"], ports={"generator": 1, "scorer": 2})
    stack.processes["generator"].proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    stack.processes["scorer"].proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    started = time.monotonic()
    with pytest.raises(typer.Exit) as stopped:
        watch_services(stack, interval_s=0.1)
    err = capsys.readouterr().err
    assert stopped.value.exit_code == 1 and time.monotonic() - started >= 2.5
    assert "the generator exited (code 3)" in err and "scorer keep running" in err and "no service is left running" in err
    assert stack.processes["scorer"].proc.returncode == 0  # it ran to its own end; nothing stopped it


@pytest.mark.integration
def test_session_commands_and_export_with_image_files_beside_the_page(service_stack, tmp_path):
    env = {**service_stack.client_env(), "FASHIONEDIT_SESSIONS_DIR": str(tmp_path / "s"), "COLUMNS": "200"}
    runner = CliRunner()

    def cli(*args: str):
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    cli("session", "new", "a long-sleeve white blazer", "--size", "128", "--seed", "1", "-n", "2", "--name", "cli")
    assert "Candidates (pick one" in cli("session", "show", "cli")
    cli("session", "pick", "cli", "1")
    rounds = tmp_path / "rounds.yaml"
    rounds.write_text("- instruction: make the blazer navy\n")
    assert "make the blazer navy" in cli("session", "round", "latest", "--script", str(rounds))
    assert "cli @ round 1" in cli("session", "branch", "cli", "--round", "1")
    listing = cli("session", "list")
    assert listing.count("offline profile") == 2
    out = tmp_path / "export" / "page.html"
    exported = cli("session", "export", "cli", "--out", str(out), "--images", "files")
    assert "offline profile" in exported and (out.parent / "page_files").is_dir()
    assert chromium_image_check(out, tmp_path) == {"total": out.read_text().count("<img "), "broken": []}


@pytest.mark.integration
@pytest.mark.slow
def test_up_starts_health_checks_and_stops_its_process_groups(tmp_path):
    base = free_port()
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fashionedit.client",
            "up",
            "--service",
            "generator",
            "--port-base",
            str(base),
            "--run-dir",
            str(run_dir),
        ],
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            lines.append(line)
            if "all services ready" in line:
                break
        output = "".join(lines)
        assert "all services ready" in output, output
        assert "offline profile" in output
        assert httpx.get(f"http://127.0.0.1:{base}/readyz", timeout=5).status_code == 200
        manifest = json.loads((run_dir / "services.json").read_text())
        service_pid = manifest["generator"]["pid"]
        assert (run_dir / "generator.log").stat().st_size > 0
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, rest
    assert "stopped" in rest
    with pytest.raises(ProcessLookupError):
        os.killpg(service_pid, 0)  # the whole group (bentoml and its workers) is gone
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{base}/readyz", timeout=2)
