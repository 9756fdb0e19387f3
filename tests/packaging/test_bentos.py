"""Every service builds as a Bento, offline, with the image, requirements, resources and traffic it declares.

Runs scripts/build_bentos.py (``bentoml build`` per declared Bento) into a temporary BENTOML_HOME with every
package index switched off, then reads what BentoML wrote: bento.yaml, the requirements and the Dockerfile
that ``bentoml containerize`` would build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fashionedit.services.common import bento as shipping
from tests.packaging.bento_tools import build_bentos
from tests.support.servers import REPO_ROOT

pytestmark = pytest.mark.slow

# name -> (port, GPU?)
EXPECTED = {
    "fashionedit-analyzer": ("3003", False),
    "fashionedit-editor": ("3002", False),
    "fashionedit-editor-local": ("3002", True),
    "fashionedit-generator": ("3001", True),
    "fashionedit-scorer": ("3004", False),
}
TORCH_FREE = {"fashionedit-analyzer", "fashionedit-editor"}


@pytest.fixture(scope="module")
def bentos(tmp_path_factory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("bentoml-home")
    offline = {"PIP_NO_INDEX": "1", "UV_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "BENTOML_DO_NOT_TRACK": "True"}
    env = {**os.environ, **offline, "BENTOML_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "build_bentos.py")], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tags = result.stdout.split()
    assert {tag.split(":")[0] for tag in tags} == set(EXPECTED), tags
    return {tag.split(":")[0]: home / "bentos" / tag.split(":")[0] / tag.split(":")[1] for tag in tags}


def test_every_declared_bento_is_built(bentos) -> None:
    assert {spec.name for spec in build_bentos.declared_bentos()} == set(EXPECTED)
    for name, path in bentos.items():
        assert (path / "bento.yaml").is_file(), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bento_image_requirements_resources_and_traffic(bentos, name: str) -> None:
    port, gpu = EXPECTED[name]
    path = bentos[name]
    info = yaml.safe_load((path / "bento.yaml").read_text())
    assert info["spec"] == 2 and info["name"] == name

    # The runtime image: the CUDA base for the GPU services, the slim Python base otherwise.
    image = info["image"]
    assert image["base_image"] == (shipping.CUDA_BASE_IMAGE if gpu else shipping.CPU_BASE_IMAGE)
    assert image["python_version"] == "3.11"
    assert len(image["commands"]) == len(set(image["commands"])) == 1, image["commands"]  # BentoML's apt-get line, once
    assert image["build_include"] == ["wheels"]

    # Requirements: this repo's wheels (in the Bento), everything else pinned from the lock; no test-model builder.
    requirements = [line for line in image["python_requirements"].splitlines() if line and not line.startswith("#")]
    wheels = [line for line in requirements if line.startswith("./wheels/")]
    pinned = dict(line.split("==", 1) for line in requirements if not line.startswith("./wheels/"))
    assert wheels and all((path / "src" / line).is_file() for line in wheels), wheels
    service = name.removeprefix("fashionedit-").removesuffix("-local")
    assert any(Path(line).name.startswith(f"fashionedit_{service}-") for line in wheels)
    lock = build_bentos.read_lock()
    assert pinned and all(lock.get(package) == version for package, version in pinned.items()), {
        p: (v, lock.get(p)) for p, v in pinned.items() if lock.get(p) != v
    }
    assert pinned["bentoml"] == lock["bentoml"]
    shipped = " ".join(requirements) + " ".join(os.listdir(path / "src" / "wheels"))
    assert "tinymodels" not in shipped
    assert ("torch" in pinned) == (name not in TORCH_FREE)

    # Resources and traffic, as the service declares them.
    config = info["services"][0]["config"]
    assert config["resources"] == ({"gpu": 1} if gpu else {"cpu": "1"})
    assert config["traffic"]["concurrency"] >= 1 and config["traffic"]["timeout"] > 0
    envs = {env["name"]: env["value"] for env in info["envs"]}
    assert envs["BENTOML_PORT"] == port and envs["HF_HUB_OFFLINE"] == "1" and envs["BENTOML_HOME"].startswith("/tmp/")

    # The Dockerfile `bentoml containerize` builds: the wheels arrive before the pinned install.
    dockerfile = (path / "env" / "docker" / "Dockerfile").read_text()
    assert re.search(rf"^FROM {re.escape(image['base_image'])} ", dockerfile, re.M)
    install = dockerfile.index("pip install -r $BENTO_PATH/env/python/requirements.txt")
    assert dockerfile.index("COPY --chown=bentoml:bentoml ./src/wheels") < install
    assert "ENV BENTOML_PORT=$BENTOML_PORT" in dockerfile and f"ARG BENTOML_PORT={port}" in dockerfile


def test_variants_bake_their_backend_into_the_image(bentos) -> None:
    def envs(name: str) -> dict[str, str]:
        return {e["name"]: e["value"] for e in yaml.safe_load((bentos[name] / "bento.yaml").read_text())["envs"]}

    assert envs("fashionedit-editor")["FASHIONEDIT_EDITOR_BACKEND"] == "openai-responses"
    assert envs("fashionedit-editor-local")["FASHIONEDIT_EDITOR_BACKEND"] == "local"
    assert envs("fashionedit-generator")["FASHIONEDIT_GENERATOR_BACKEND"] == "sd3"


def test_a_bento_needing_a_package_the_lock_lacks_is_not_built(tmp_path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("\n".join(line for line in build_bentos.LOCK.read_text().splitlines() if not line.startswith("openai==")))
    with pytest.raises(SystemExit, match="openai is needed by the fashionedit-editor Bento but missing from requirements.lock"):
        build_bentos.dependency_closure("fashionedit-editor", (), lock=lock)


def test_the_test_model_builder_is_never_shipped(tmp_path) -> None:
    spec = next(s for s in build_bentos.declared_bentos() if s.name == "fashionedit-generator")
    tiny = build_bentos.BentoSpec(**{**spec.__dict__, "name": "generator-with-tiny", "extras": ("diffusers", "tiny")})
    with pytest.raises(SystemExit, match="would ship \\['fashionedit-tinymodels'\\]"):
        build_bentos.stage(tiny, {}, tmp_path / "stage")


@pytest.mark.integration
def test_a_built_bento_serves(bentos, tmp_path) -> None:
    """`bentoml serve <bento tag>`, as the image's entry point runs it: the Bento's service loads and answers."""
    import httpx

    from tests.support.servers import BentoServer

    path = bentos["fashionedit-analyzer"]
    tag = f"fashionedit-analyzer:{path.name}"
    env = {"BENTOML_HOME": str(path.parents[2]), "FASHIONEDIT_ANALYZER_BACKEND": "classical"}
    with BentoServer(tag, env=env, cwd=tmp_path, log_path=tmp_path / "serve.log", startup_timeout=120) as server:
        info = httpx.post(f"{server.url}/v1/info", json={}, timeout=10).json()
    assert info["service"] == "analyzer" and info["ready"] is True, info


def test_services_tell_random_weights_without_the_test_model_builder() -> None:
    """The Bentos leave fashionedit.tinymodels out, so the services keep their own copy of its marker's name."""
    from fashionedit.services.editor import sd3
    from fashionedit.services.scorer.backends import openclip
    from fashionedit.tinymodels import RANDOM_WEIGHTS_MARKER

    assert sd3.RANDOM_WEIGHTS_MARKER == openclip.RANDOM_WEIGHTS_MARKER == RANDOM_WEIGHTS_MARKER


@pytest.mark.slow
def test_the_gpu_bentos_services_load_weights_without_the_test_model_builder(tmp_path) -> None:
    """What fashionedit-generator and fashionedit-editor-local install is enough to load SD3 weights: the
    test-model builder is unimportable here, as in those images (tiny SD3 weights stand in, marker removed)."""
    pytest.importorskip("diffusers")
    from fashionedit.tinymodels import RANDOM_WEIGHTS_MARKER, save_sd3_pipeline

    weights = save_sd3_pipeline(tmp_path / "sd3")
    (weights / RANDOM_WEIGHTS_MARKER).unlink()  # to the services these are now ordinary weights
    probe = f"""
import sys
sys.modules["fashionedit.tinymodels"] = None  # import fails, as in the production images
from fashionedit.services.editor.sd3 import SD3Editor
from fashionedit.services.editor.settings import EditorSettings
from fashionedit.services.generator.backends import diffusers_pipeline
from fashionedit.services.generator.settings import GeneratorSettings

editor = SD3Editor.load(EditorSettings(backend="local", local_sd3_model={str(weights)!r}))
assert editor.random_weights is False and editor.model_info().weights.source == "local", editor.model_info()
generator = diffusers_pipeline.load(GeneratorSettings(backend="sd3", model={str(weights)!r}), backend="sd3")
print("loaded", type(generator).__name__)
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0 and "loaded" in result.stdout, result.stdout + result.stderr
