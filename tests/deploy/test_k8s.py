"""Kubernetes manifests: each kustomization rendered by kustomize (kubectl's), then validated against the
Kubernetes API schemas (kubernetes-validate, strict: unknown fields fail) and checked for the deployment
rules of docs/deploy.md: probes, resources, hardening, GPUs, autoscaling, disruption budgets, network policy."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest

from .tools import REPO, SERVICES, render_kustomization, settings_problems

K8S_VERSION = "1.37.0"  # newest schema kubernetes-validate bundles; 1.33 checks the oldest cluster we aim at
KUSTOMIZATIONS = ["deploy/k8s/base", "deploy/k8s/overlays/dev", "deploy/k8s/overlays/prod", "deploy/k8s/overlays/prod-open", "deploy/k8s/overlays/prod-open-edit"]
CPU_LIGHT = {"editor", "analyzer", "scorer"}
# Secrets the operator creates (docs/deploy.md); nothing in the repository holds their values.
OPERATOR_SECRETS = {"fashionedit-openai", "fashionedit-api-token"}
# The one volume a pod writes: the studio's design sessions (every other claim holds weights, mounted read-only).
WRITABLE_CLAIMS = {"studio-sessions"}


def docs(path: str, kind: str | None = None) -> list[dict]:
    return [d for d in render_kustomization(path) if kind is None or d["kind"] == kind]


def by_name(path: str, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs(path, kind)}


def container(deployment: dict) -> dict:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def config_env(path: str) -> dict[str, str]:
    (config,) = [d for d in docs(path, "ConfigMap") if d["metadata"]["name"].startswith("fashionedit-config")]
    return config["data"]


@pytest.mark.parametrize(
    ("path", "version"), [(path, K8S_VERSION) for path in KUSTOMIZATIONS] + [("deploy/k8s/overlays/prod", "1.33.0")]
)
def test_every_rendered_manifest_validates(path: str, version: str) -> None:
    rendered = docs(path)
    assert rendered
    for doc in rendered:
        kubernetes_validate.validate(doc, version, strict=True)  # raises with the field path on error


def test_schema_validation_catches_mistakes() -> None:
    deployment = dict(by_name("deploy/k8s/base", "Deployment")["scorer"])
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_services_match_the_conventions(path: str) -> None:
    deployments, services = by_name(path, "Deployment"), by_name(path, "Service")
    assert set(SERVICES) <= set(deployments) and set(SERVICES) <= set(services)
    for name, port in SERVICES.items():
        main = container(deployments[name])
        assert main["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert services[name]["spec"]["ports"][0]["port"] == port
        assert services[name]["spec"]["selector"] == deployments[name]["spec"]["selector"]["matchLabels"]
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert main["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert main["startupProbe"]["httpGet"]["path"] == "/readyz"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(main["resources"][kind]), (name, kind)


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_pods_are_hardened(path: str) -> None:
    for name, deployment in by_name(path, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            if name != "vlm":  # vLLM writes next to its install; it runs non-root without a read-only root
                assert sc["readOnlyRootFilesystem"] is True, name
                mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
                volumes = {v["name"]: v for v in pod["volumes"]}
                assert "emptyDir" in volumes[mounts["/tmp"]], f"{name}: /tmp must be an emptyDir"


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_config_keys_are_real_settings(path: str) -> None:
    env = dict(config_env(path))
    for deployment in by_name(path, "Deployment").values():
        for item in container(deployment).get("env", []):
            if "value" in item:
                env[item["name"]] = item["value"]
    assert settings_problems(env) == []


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_references_resolve(path: str) -> None:
    generated = {d["metadata"]["name"] for d in docs(path, "ConfigMap")}
    claims = {d["metadata"]["name"] for d in docs(path, "PersistentVolumeClaim")}
    for name, deployment in by_name(path, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] in by_name(path, "ServiceAccount")
        for c in pod["containers"]:
            for ref in c.get("envFrom", []):
                assert ref["configMapRef"]["name"] in generated, name
            for item in c.get("env", []):
                secret = item.get("valueFrom", {}).get("secretKeyRef")
                if secret:
                    assert secret["name"] in OPERATOR_SECRETS, (name, secret)
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in OPERATOR_SECRETS, name
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
                if volume["persistentVolumeClaim"]["claimName"] not in WRITABLE_CLAIMS:
                    assert volume["persistentVolumeClaim"]["readOnly"] is True, name
    # The operator's Secrets are named in the docs, with how to create them.
    text = (REPO / "docs" / "deploy.md").read_text()
    assert all(secret in text for secret in OPERATOR_SECRETS)


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_autoscaling_and_disruption_budgets(path: str) -> None:
    deployments = by_name(path, "Deployment")
    hpas = by_name(path, "HorizontalPodAutoscaler")
    on_cpu = {name for name in CPU_LIGHT if gpus(deployments[name]) == 0}
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == on_cpu
    for hpa in hpas.values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    covered = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for d in docs(path, "PodDisruptionBudget")}
    assert covered == set(deployments)


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_only_clients_and_ingress_reach_the_services(path: str) -> None:
    policies = by_name(path, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    allow = policies["allow-clients-to-services"]["spec"]
    selector = allow["podSelector"]["matchLabels"]
    for name in SERVICES:
        labels = by_name(path, "Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{name} is not reachable by clients"
    (rule,) = allow["ingress"]
    sources = rule["from"]
    assert {"fashionedit.io/client": "true"} in [s.get("podSelector", {}).get("matchLabels") for s in sources]
    assert all("podSelector" in s or "namespaceSelector" in s for s in sources)
    assert all(s.get("namespaceSelector") != {} or s.get("podSelector") for s in sources), "no open 'from' rule"


def gpus(deployment: dict) -> int:
    limits = container(deployment)["resources"]["limits"]
    return int(limits.get("nvidia.com/gpu", 0))


def test_dev_needs_no_gpu_no_secret_no_weights() -> None:
    for name, deployment in by_name("deploy/k8s/overlays/dev", "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert gpus(deployment) == 0 and "nodeSelector" not in pod, name
        weights = [v for v in pod["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") not in WRITABLE_CLAIMS]
        assert not any("secret" in v or "persistentVolumeClaim" in v for v in weights), name
    env = config_env("deploy/k8s/overlays/dev")
    assert env["FASHIONEDIT_GENERATOR_BACKEND"] == "flats" and env["FASHIONEDIT_ANALYZER_BACKEND"] == "classical"
    assert env["FASHIONEDIT_EDITOR_BACKEND"] == "local"
    # the local editor needs the image built with its torch extra
    assert container(by_name("deploy/k8s/overlays/dev", "Deployment")["editor"])["image"].endswith(":0.1.0-local")


@pytest.mark.parametrize("path", ["deploy/k8s/overlays/prod", "deploy/k8s/overlays/prod-open", "deploy/k8s/overlays/prod-open-edit"])
def test_prod_puts_the_generator_on_a_gpu_node(path: str) -> None:
    generator = by_name(path, "Deployment")["generator"]
    pod = generator["spec"]["template"]["spec"]
    main = container(generator)
    assert gpus(generator) == 1 and main["resources"]["requests"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert main["image"].endswith("-gpu")
    startup = main["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600, "SD3 needs minutes to load"
    assert {m["mountPath"] for m in main["volumeMounts"]} >= {"/models", "/dev/shm"}
    assert config_env(path)["FASHIONEDIT_GENERATOR_BACKEND"] == "sd3"


def test_prod_reads_the_openai_key_from_a_secret() -> None:
    path = "deploy/k8s/overlays/prod"
    env = config_env(path)
    deployments = by_name(path, "Deployment")
    editor = deployments["editor"]
    mounts = {m["mountPath"]: m for m in container(editor)["volumeMounts"]}
    key_file = env["FASHIONEDIT_EDITOR_OPENAI_API_KEY_FILE"]
    assert key_file.rsplit("/", 1)[0] in mounts and mounts[key_file.rsplit("/", 1)[0]]["readOnly"]
    (secret_volume,) = [v for v in editor["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    assert secret_volume["secret"]["secretName"] == "fashionedit-openai"
    analyzer_env = {e["name"]: e for e in container(deployments["analyzer"])["env"]}
    assert analyzer_env["FASHIONEDIT_ANALYZER_OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "fashionedit-openai"
    # no key value anywhere in the rendered manifests
    assert not [d for d in docs(path, "Secret")]
    assert not re.search(r"sk-[A-Za-z0-9]{8,}", str(docs(path)))


@pytest.mark.parametrize("path", ["deploy/k8s/overlays/prod-open", "deploy/k8s/overlays/prod-open-edit"])
def test_prod_open_serves_the_analyzer_from_vllm(path: str) -> None:
    deployments = by_name(path, "Deployment")
    assert gpus(deployments["vlm"]) == 1 and gpus(deployments["editor"]) == 1
    env = config_env(path)
    assert env["FASHIONEDIT_ANALYZER_BACKEND"] == "openai-vlm"
    service = by_name(path, "Service")["vlm"]
    assert env["FASHIONEDIT_ANALYZER_VLM_BASE_URL"] == f"http://vlm:{service['spec']['ports'][0]['port']}/v1"
    # only the analyzer reaches the VLM
    policy = by_name(path, "NetworkPolicy")["allow-analyzer-to-vlm"]["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "vlm"}
    assert policy["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "analyzer"}}}]
    assert "fashionedit-openai" not in str(docs(path))
