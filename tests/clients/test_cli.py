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
from PIL import Image
from typer.testing import CliRunner

from fashionedit.client.cli import app
from tests.clients.conftest import chromium_image_check, chromium_screenshot
from tests.support.servers import free_port

COMMANDS = [[], ["up"], ["status"], ["demo"], ["session"]] + [
    ["session", name] for name in ("new", "round", "resume", "pick", "target", "show", "list", "branch", "export")
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "fashionedit")
def test_help_everywhere(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and "--help" in result.output


def test_errors_are_messages_not_tracebacks(tmp_path):
    result = CliRunner().invoke(app, ["session", "show", "nope", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "no session 'nope'" in result.output and "Traceback" not in result.output


@pytest.mark.integration
def test_demo_runs_a_full_session_and_its_page_shows_every_image(service_stack, tmp_path):
    out = tmp_path / "demo out"  # a space in the path must not break links
    env = {**os.environ, **service_stack.client_env(), "COLUMNS": "200"}
    run = subprocess.run([sys.executable, "-m", "fashionedit.client", "demo", "--out", str(out)], env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    printed = run.stdout
    assert "offline profile" in printed and "using the services at" in printed
    page = Path(re.search(r"HTML page: (.+?\.html)", printed).group(1))
    assert page == out / "session.html" and page.is_file()

    session = json.loads(next((out / "sessions").glob("*/session.json")).read_text())
    kinds = [r["mode"] for r in session["rounds"]]
    assert kinds == ["text", "text+image"] and all(r["status"] == "done" for r in session["rounds"])
    assert all(r["guidance"]["scores"]["pair"]["psnr"] is not None for r in session["rounds"])
    assert session["draft"]["guidance"]["analysis"]["suggestions"]

    html = page.read_text()
    n_img = html.count("<img ")
    assert n_img >= 10 and "offline profile" in html and "image-into-prompt" in html
    check = chromium_image_check(page, tmp_path)
    assert check == {"total": n_img, "broken": []}

    shot = chromium_screenshot(page, tmp_path / "demo.png", tmp_path)
    with Image.open(shot) as img:
        assert img.size == (1280, 2400)
        colours = img.convert("RGB").resize((64, 120)).getcolors(64 * 120)
        assert len(colours) > 50  # a rendered page with images, not a blank or error page
        # The navy of round 1's result is on the page (the flats render it as RGB ~ (30, 40, 90)).
        assert any(b > r + 30 and b > g + 20 and r < 80 for _, (r, g, b) in colours)


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
        [sys.executable, "-m", "fashionedit.client", "up", "--service", "generator", "--port-base", str(base), "--run-dir", str(run_dir)],
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
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
