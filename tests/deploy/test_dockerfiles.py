"""Dockerfiles: hadolint (strictest threshold, labels required) and the rules it cannot know: non-root,
health checks on the service's own port, the conventional serve command, pinned bases, local
distributions from the build context, nothing secret or heavy baked in."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from .tools import REPO, SERVICE_CLASSES, SERVICES, hadolint, run

DOCKERFILES = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "services").glob("*/Dockerfile*"))
HADOLINT_CONFIG = REPO / "deploy" / "docker" / "hadolint.yaml"


def instructions(path: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (REPO / path).read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(path: str) -> list[tuple[str, str]]:
    steps = instructions(path)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_hand_written_dockerfiles_only_where_no_bento_serves() -> None:
    """Every service ships as a Bento (tests/packaging/test_bentos.py); two CPU images for the offline profile stay
    hand-written: the torch-free flats generator and the editor that carries the test-model builder."""
    assert DOCKERFILES == ["services/editor/Dockerfile", "services/generator/Dockerfile"]
    assert 'ARG EXTRAS="local,tiny"' in (REPO / "services/editor/Dockerfile").read_text()
    for path in DOCKERFILES:
        assert "-c /src/requirements.lock" in (REPO / path).read_text(), f"{path} installs from the workspace lock"


@pytest.mark.parametrize("path", DOCKERFILES)
def test_hadolint_passes(path: str) -> None:
    result = run([hadolint(), "--no-color", "-c", str(HADOLINT_CONFIG), str(REPO / path)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_reports_problems(tmp_path: Path) -> None:
    bad = (REPO / DOCKERFILES[0]).read_text().replace("USER 10001:10001", "USER root")
    bad = re.sub(r"LABEL .*?licenses=\"MIT\"\n", "", bad, flags=re.S)
    (tmp_path / "Dockerfile").write_text(bad)
    result = run([hadolint(), "--no-color", "-c", str(HADOLINT_CONFIG), str(tmp_path / "Dockerfile")])
    assert result.returncode != 0
    assert "DL3002" in result.stdout and "DL3049" in result.stdout  # last USER root; label missing


@pytest.mark.parametrize("path", DOCKERFILES)
def test_runtime_stage_follows_the_rules(path: str) -> None:
    service = path.split("/")[1]
    port = SERVICES[service]
    stage = final_stage(path)
    words = [w for w, _ in stage]
    args = {w: a for w, a in stage}  # the last of each
    user = [a for w, a in stage if w == "USER"][-1]
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), f"non-root numeric USER expected, got {user}"
    assert words.index("USER") < words.index("CMD")
    assert f"127.0.0.1:{port}/readyz" in args["HEALTHCHECK"]
    assert args["EXPOSE"] == str(port)
    target = f"fashionedit.services.{service}.service:{SERVICE_CLASSES[service]}"
    assert args["CMD"] == f'["bentoml", "serve", "{target}", "--host", "0.0.0.0", "--port", "{port}"]'
    assert args["ENTRYPOINT"] == '["fashionedit-entrypoint"]'
    env = " ".join(a for w, a in stage if w == "ENV")
    assert "BENTOML_HOME=/tmp/" in env and "XDG_CACHE_HOME=/tmp/" in env  # read-only root: writes go to /tmp
    if service != "analyzer":
        assert "HF_HOME=/models/" in env  # weights come from a mounted volume


@pytest.mark.parametrize("path", DOCKERFILES)
def test_bases_are_pinned_and_nothing_is_baked_in(path: str) -> None:
    steps = instructions(path)
    defaults = dict(re.match(r"(\w+)=(.*)", a).groups() for w, a in steps if w == "ARG" and "=" in a)
    for word, arg in steps:
        if word == "FROM":
            image = arg.split()[0]
            image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], image)
            name, _, tag = image.rpartition(":")
            assert name and tag and tag != "latest" and re.search(r"\d", tag), f"unpinned base {image}"
    text = (REPO / path).read_text()
    assert not re.search(r"(?i)(api[_-]?key|token|secret|password)\s*=", text), "no credentials in images"
    assert not re.search(r"from_pretrained|hf download|huggingface-cli|snapshot_download|\.safetensors", text)
    sources = [a.split()[-2] for w, a in steps if w == "COPY"]
    for source in sources:
        parts = set(source.rstrip("/").split("/"))
        assert not parts & {".venv", "secrets", "models", ".env", "huggingface"}, source


def local_distributions() -> dict[str, str]:
    """distribution name -> folder, for every pyproject in the repository's distribution folders."""
    out = {}
    for pyproject in [
        REPO / "contracts" / "pyproject.toml",
        *sorted((REPO / "libs").glob("*/pyproject.toml")),
        *sorted((REPO / "services").glob("*/pyproject.toml")),
    ]:
        out[tomllib.loads(pyproject.read_text())["project"]["name"]] = pyproject.parent.relative_to(REPO).as_posix()
    return out


def fashionedit_requirements(folder: str, extras: set[str]) -> set[str]:
    project = tomllib.loads((REPO / folder / "pyproject.toml").read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in extras:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    return {
        re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower().replace("_", "-")
        for r in requirements
        if r.lower().startswith("fashionedit")
    }


@pytest.mark.parametrize("path", DOCKERFILES)
def test_every_local_distribution_the_service_needs_is_in_the_build_context(path: str) -> None:
    service = path.split("/")[1]
    steps = instructions(path)
    declared_extras = set(
        tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text())["project"].get("optional-dependencies", {})
    )
    extras_used: set[str] = set()
    for word, arg in steps:
        if word == "RUN" and f"/src/services/{service}" in arg:
            if "${EXTRAS" in arg:
                extras_used |= declared_extras - {"all"}  # a build argument may pick any extra
            extras_used |= {e for m in re.findall(r"/src/services/" + service + r"\[([\w,]+)\]", arg) for e in m.split(",")}
    dists = local_distributions()
    needed, todo = set(), {f"fashionedit-{service}"}
    while todo:
        name = todo.pop()
        needed.add(name)
        folder = dists[name]
        todo |= fashionedit_requirements(folder, extras_used if name == f"fashionedit-{service}" else set()) - needed
    copied = {a.split()[0].rstrip("/") for w, a in steps if w == "COPY" and not a.startswith("--")}
    for name in needed:
        assert dists[name] in copied, f"{path} must COPY {dists[name]}/ ({name})"
    constraints = (REPO / "deploy" / "docker" / "constraints-local.txt").read_text()
    for name in needed - {f"fashionedit-{service}"}:
        assert f"{name} @ file:///src/{dists[name]}" in constraints


def test_build_context_leaves_out_the_venv_and_secrets() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :][:1] == ["*"] and "!.venv/" not in ignore and "!deploy/secrets/" not in ignore
