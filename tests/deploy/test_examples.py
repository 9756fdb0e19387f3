"""The non-Python examples of docs/deploy.md (deploy/examples/: curl and JavaScript fetch) run against a
real analyzer with bearer auth on, and the docs quote them verbatim."""

from __future__ import annotations

import os
import shutil

import pytest
from PIL import Image, ImageDraw

from .conftest import API_TOKEN
from .tools import REPO, run

pytestmark = pytest.mark.integration
EXAMPLES = REPO / "deploy" / "examples"


@pytest.fixture(scope="module")
def image_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    original = Image.new("RGB", (192, 192), "white")
    draw = ImageDraw.Draw(original)
    draw.rectangle((48, 32, 144, 176), fill=(40, 60, 160))  # a garment body
    design = original.copy()
    draw.rectangle((64, 48, 96, 80), fill=(220, 30, 30))  # the original has a red pocket the design lacks
    original.save(folder / "original.png")
    design.save(folder / "design.png")
    return str(folder / "original.png"), str(folder / "design.png")


def example_env(server, token: str | None) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "FASHIONEDIT_ANALYZER_URL": server.url}
    if token:
        env["FASHIONEDIT_API_TOKEN"] = token
    return env


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js 18+ for the fetch example")
def test_javascript_fetch_example(analyzer_with_token, image_pair) -> None:
    result = run(["node", str(EXAMPLES / "analyze.mjs"), *image_pair, "2"], env=example_env(analyzer_with_token, API_TOKEN))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("backend=classical") and lines[-1].endswith("offline=true")
    assert 1 <= len(lines) - 1 <= 2 and all(line.startswith("[") for line in lines[:-1])

    denied = run(["node", str(EXAMPLES / "analyze.mjs"), *image_pair], env=example_env(analyzer_with_token, None))
    assert denied.returncode == 1 and denied.stderr.startswith("401 unauthorized:")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_example(analyzer_with_token, image_pair) -> None:
    result = run(["sh", str(EXAMPLES / "analyze.sh"), *image_pair], env=example_env(analyzer_with_token, API_TOKEN))
    assert result.returncode == 0, result.stderr
    ready, info, analysis = result.stdout.strip().splitlines()
    assert ready == "ready" and '"service":"analyzer"' in info.replace(" ", "")
    assert '"differences":[{' in analysis.replace(" ", "") and '"backend":"classical"' in analysis.replace(" ", "")


def test_docs_quote_the_examples() -> None:
    docs = (REPO / "docs" / "deploy.md").read_text()
    for example in ("analyze.mjs", "analyze.sh"):
        assert (EXAMPLES / example).read_text().strip() in docs, f"docs/deploy.md must quote deploy/examples/{example}"
