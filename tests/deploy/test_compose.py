"""docker-compose.yml, loaded by Docker Compose v2 itself (`config`: the compose specification's JSON schema
plus compose's own checks), for each documented profile set; then the deployment rules of docs/deploy.md."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest

from tests.packaging.bento_tools import build_bentos

from .tools import REPO, SERVICES, compose, run, settings_problems

# The profile sets the compose file's header documents; each must give one service per role.
PROFILE_SETS = {
    "offline": {"generator-offline", "editor-offline", "analyzer-offline", "scorer"},
    "paper": {"generator", "editor", "analyzer", "scorer"},
    "open": {"generator", "editor-local", "analyzer-vlm", "vlm", "scorer"},
    "open-edit": {"generator", "editor-open", "analyzer-vlm", "vlm", "scorer"},
    "paper,vlm": {"generator", "editor", "analyzer", "vlm", "scorer"},
}
GPU_SERVICES = {"generator", "editor-local", "editor-open", "vlm"}
# The images `bentoml containerize` makes from the declared Bentos (docs/deploy.md), by tag.
BENTO_IMAGES = {
    "fashionedit/generator:0.1.0-gpu": "fashionedit-generator",
    "fashionedit/editor:0.1.0": "fashionedit-editor",
    "fashionedit/editor:0.1.0-gpu": "fashionedit-editor-local",
    "fashionedit/analyzer:0.1.0": "fashionedit-analyzer",
    "fashionedit/scorer:0.1.0": "fashionedit-scorer",
}
DECLARED_BENTOS = {spec.name for spec in build_bentos.declared_bentos()}


def compose_env(profiles: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "FASHIONEDIT_", "DOCKER_"))}
    env["COMPOSE_PROFILES"] = profiles
    return env


@functools.cache
def rendered(profiles: str) -> dict:
    result = run(
        [compose(), "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"], env=compose_env(profiles), cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def role_of(service: str) -> str:
    return service.split("-")[0]


@pytest.mark.parametrize("profiles", PROFILE_SETS)
def test_compose_file_validates(profiles: str) -> None:
    result = run([compose(), "-f", str(REPO / "docker-compose.yml"), "config", "--quiet"], env=compose_env(profiles), cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert set(rendered(profiles)["services"]) == PROFILE_SETS[profiles]


def test_validation_catches_mistakes(tmp_path) -> None:
    broken = (REPO / "docker-compose.yml").read_text().replace("    shm_size: 2gb\n", "    shm_sise: 2gb\n", 1)
    (tmp_path / "docker-compose.yml").write_text(broken)
    result = run(
        [compose(), "-f", str(tmp_path / "docker-compose.yml"), "config", "--quiet"], env=compose_env("paper"), cwd=tmp_path
    )
    assert result.returncode != 0 and "shm_sise" in result.stderr


@pytest.mark.parametrize("profiles", PROFILE_SETS)
def test_one_service_per_role_on_the_conventional_port(profiles: str) -> None:
    services = rendered(profiles)["services"]
    published: dict[str, str] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port["published"] not in published, f"{name} and {published[port['published']]} share a host port"
            published[port["published"]] = name
            assert port["target"] == SERVICES[role_of(name)] and int(port["published"]) == port["target"]
    assert sorted(role_of(n) for n in published.values()) == sorted(SERVICES)
    assert "ports" not in services.get("vlm", {}), "the VLM is internal to the compose network"


@pytest.mark.parametrize("profiles", PROFILE_SETS)
def test_services_are_hardened_and_health_checked(profiles: str) -> None:
    for name, service in rendered(profiles)["services"].items():
        assert "no-new-privileges:true" in service["security_opt"], name
        check = " ".join(service["healthcheck"]["test"])
        if name == "vlm":
            assert "/health" in check
            continue
        port = SERVICES[role_of(name)]
        assert f"127.0.0.1:{port}/readyz" in check, name
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert "/tmp" in service["tmpfs"], name
        assert service["environment"]["HF_HUB_OFFLINE"] == "1", name
        if "build" in service:  # the offline profile's hand-written images
            assert (REPO / service["build"]["dockerfile"]).is_file(), name
        else:  # a Bento's image (docs/deploy.md: bentoml containerize <bento> -t <image>)
            image = service["image"]
            assert BENTO_IMAGES.get(image) in DECLARED_BENTOS, f"{name}: {image} is no declared Bento's image"


@pytest.mark.parametrize("profiles", PROFILE_SETS)
def test_environment_keys_are_real_settings(profiles: str) -> None:
    for name, service in rendered(profiles)["services"].items():
        if name != "vlm":
            assert settings_problems(service["environment"]) == [], name


def test_offline_profile_runs_on_a_cpu_only_host() -> None:
    services = rendered("offline")["services"]
    for name, service in services.items():
        assert "devices" not in json.dumps(service.get("deploy", {})), f"{name} reserves a device"
        assert "secrets" not in service, f"{name} needs a secret"
    assert services["generator-offline"]["environment"]["FASHIONEDIT_GENERATOR_BACKEND"] == "flats"
    assert services["analyzer-offline"]["environment"]["FASHIONEDIT_ANALYZER_BACKEND"] == "classical"
    assert services["editor-offline"]["build"]["args"] == {"EXTRAS": "local,tiny"}


@pytest.mark.parametrize("profiles", ["paper", "open", "open-edit"])
def test_gpu_services_reserve_an_nvidia_gpu_and_read_weights_from_the_volume(profiles: str) -> None:
    services = rendered(profiles)["services"]
    for name in GPU_SERVICES & set(services):
        (device,) = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"] and device["count"] == 1
        (volume,) = [v for v in services[name]["volumes"] if v["target"] == "/models"]
        assert volume["source"] == "models" and volume["read_only"] is True
    for name in set(services) - GPU_SERVICES:
        assert "devices" not in json.dumps(services[name].get("deploy", {})), name


def test_openai_key_is_a_file_secret_read_through_a_file_setting() -> None:
    config = rendered("paper")
    # The analyzer's Bento image serves through BentoML's entry point: the repo's *_FILE entry point runs first.
    analyzer = config["services"]["analyzer"]
    assert analyzer["entrypoint"] == ["/bin/sh", "/opt/fashionedit/entrypoint.sh", "/home/bentoml/bento/env/docker/entrypoint.sh"]
    (mount,) = [v for v in analyzer["volumes"] if v["target"] == "/opt/fashionedit/entrypoint.sh"]
    assert Path(mount["source"]) == REPO / "deploy" / "docker" / "entrypoint.sh" and mount["read_only"] is True
    assert set(config["secrets"]) == {"openai_api_key"}
    assert "file" in config["secrets"]["openai_api_key"]
    for name in ("editor", "analyzer"):
        service = config["services"][name]
        assert [s["source"] for s in service["secrets"]] == ["openai_api_key"]
        key_file = service["environment"][f"FASHIONEDIT_{name.upper()}_OPENAI_API_KEY_FILE"]
        assert key_file == "/run/secrets/openai_api_key"
        assert not any(k.endswith("OPENAI_API_KEY") for k in service["environment"]), "key values never in compose"
    # the secret files' folder keeps them out of git
    assert (REPO / "deploy" / "secrets" / ".gitignore").read_text().splitlines()[1:] == ["*", "!.gitignore"]
