"""Fixtures for the client tests: the shared four-service stack, a black-hole endpoint, and headless Chromium."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import service_stack  # noqa: F401 - re-exported fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars"]

# Appended to a copy of an exported page: after load, lists every <img> that failed to decode.
IMAGE_PROBE = (
    "<script>window.addEventListener('load',function(){var imgs=[].slice.call(document.images);"
    "var bad=imgs.filter(function(i){return !(i.complete&&i.naturalWidth>0&&i.naturalHeight>0)}).map(function(i){return i.alt});"
    "var p=document.createElement('pre');p.id='image-check';p.textContent=JSON.stringify({total:imgs.length,broken:bad});"
    "document.body.appendChild(p);});</script>"
)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A URL whose socket accepts connections (kernel backlog) but never answers: a call to it hangs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def chromium_image_check(html: Path, tmp_path: Path) -> dict:
    """Open ``html`` (a copy with IMAGE_PROBE, in the same folder so relative links resolve) in headless Chromium."""
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")
    probe = html.with_name(html.stem + ".probe.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", IMAGE_PROBE + "</body>"), encoding="utf-8")
    try:
        result = subprocess.run(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp_path / 'chromium-profile'}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink(missing_ok=True)
    marker = '<pre id="image-check">'
    assert marker in result.stdout, f"no probe output from chromium: {result.stderr[-2000:]}"
    return json.loads(result.stdout.split(marker, 1)[1].split("</pre>", 1)[0])


def chromium_screenshot(html: Path, out: Path, tmp_path: Path, size: str = "1280,2400") -> Path:
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install -y chromium)")
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'chromium-shot'}",
            f"--window-size={size}",
            f"--screenshot={out}",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return out
