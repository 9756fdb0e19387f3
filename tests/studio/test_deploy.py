"""The studio's deployment, checked offline like the services': its image's Dockerfile (hadolint), its docker-compose
service (Docker Compose v2 `config`), and its Kubernetes Deployment rendered by kustomize and validated against the API
schemas, with the rules that matter for it: probes, the restricted security context, a writable sessions volume."""

from __future__ import annotations

import json
import os

import kubernetes_validate
import pytest

from fashionedit.client.settings import ClientSettings
from tests.deploy.test_compose import compose_env
from tests.deploy.test_dockerfiles import final_stage, instructions
from tests.deploy.test_k8s import K8S_VERSION, KUSTOMIZATIONS, by_name, container, docs
from tests.deploy.tools import REPO, compose, hadolint, run

DOCKERFILE = "clients/Dockerfile"


def test_the_studio_image_passes_hadolint_and_runs_the_studio_as_non_root() -> None:
    result = run([hadolint(), "--no-color", "-c", str(REPO / "deploy/docker/hadolint.yaml"), str(REPO / DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr
    stage = final_stage(DOCKERFILE)
    args = {word: rest for word, rest in stage}
    assert args["USER"] == "10001:10001" and args["EXPOSE"] == "3000"
    assert args["CMD"] == '["fashionedit", "studio", "--host", "0.0.0.0", "--port", "3000"]'
    assert args["ENTRYPOINT"] == '["fashionedit-entrypoint"]'  # FASHIONEDIT_API_TOKEN_FILE works as for the services
    assert "127.0.0.1:3000/readyz" in args["HEALTHCHECK"]
    installs = [rest for word, rest in instructions(DOCKERFILE) if word == "RUN" and "pip install" in rest]
    assert installs == ["pip install -c /src/constraints-local.txt /src/clients"]  # the client alone: no torch, no bentoml


def test_the_compose_service_validates_beside_any_profile() -> None:
    for profiles in ("offline,studio", "paper,studio"):
        result = run(
            [compose(), "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"], env=compose_env(profiles), cwd=REPO
        )
        assert result.returncode == 0, result.stderr
        config = json.loads(result.stdout)
        studio = config["services"]["studio"]
        assert [(p["target"], p["published"]) for p in studio["ports"]] == [(3000, "3000")]
        assert "127.0.0.1:3000/readyz" in " ".join(studio["healthcheck"]["test"])
        assert (
            studio["read_only"] is True and studio["cap_drop"] == ["ALL"] and "no-new-privileges:true" in studio["security_opt"]
        )
        (volume,) = studio["volumes"]
        assert volume["source"] == "sessions" and volume["target"] == "/data/sessions" and not volume.get("read_only")
        assert "sessions" in config["volumes"]
        env = studio["environment"]
        assert env["FASHIONEDIT_SESSIONS_DIR"] == "/data/sessions"
        # the services' host ports are the same whatever profile serves them
        assert [env[f"FASHIONEDIT_{name}_URL"] for name in ("GENERATOR", "EDITOR", "ANALYZER", "SCORER")] == [
            f"http://host.docker.internal:{port}" for port in (3001, 3002, 3003, 3004)
        ]
        assert (REPO / studio["build"]["dockerfile"]).is_file()
    result = run(
        [compose(), "-f", str(REPO / "docker-compose.yml"), "config", "--services"], env=compose_env("offline"), cwd=REPO
    )
    assert "studio" not in result.stdout.split()  # only where asked for


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_the_kubernetes_deployment(path: str) -> None:
    deployment = by_name(path, "Deployment")["studio"]
    for doc in docs(path):
        if doc["metadata"]["name"].startswith(("studio", "allow-ingress-to-studio")):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    pod = deployment["spec"]["template"]["spec"]
    main = container(deployment)
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    assert main["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz" and main["startupProbe"]["httpGet"]["path"] == "/readyz"
    assert main["livenessProbe"]["httpGet"]["path"] == "/livez"
    # the restricted Pod Security Standard
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    sc = main["securityContext"]
    assert (
        sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"] and sc["readOnlyRootFilesystem"] is True
    )
    # sessions on a persistent, writable volume; /tmp an emptyDir
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes[mounts["/data/sessions"]]["persistentVolumeClaim"]["claimName"]
    pvc = by_name(path, "PersistentVolumeClaim")[claim]
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"] and "emptyDir" in volumes[mounts["/tmp"]]
    # a client of the services, reachable from the ingress controller
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["fashionedit.io/client"] == "true"
    policy = by_name(path, "NetworkPolicy")["allow-ingress-to-studio"]["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "studio"}
    service = by_name(path, "Service")["studio"]
    assert (
        service["spec"]["ports"][0]["port"] == 3000
        and service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    )
    # its settings are real client settings, pointing at the services' Service names and ports
    (ref,) = main["envFrom"]
    (config,) = [c for c in docs(path, "ConfigMap") if c["metadata"]["name"] == ref["configMapRef"]["name"]]
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("FASHIONEDIT_")}
    try:
        os.environ.update({k: v for k, v in config["data"].items() if k.startswith("FASHIONEDIT_")})
        settings = ClientSettings()
    finally:
        for key in config["data"]:
            os.environ.pop(key, None)
        os.environ.update(saved)
    services = by_name(path, "Service")
    for name in ("generator", "editor", "analyzer", "scorer"):
        assert settings.urls(name) == [f"http://{name}:{services[name]['spec']['ports'][0]['port']}"]
    assert str(settings.sessions_dir) == "/data/sessions"
