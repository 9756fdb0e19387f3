"""Kubernetes manifests: each kustomization rendered by kustomize (kubectl's), then validated against the
Kubernetes API schemas (kubernetes-validate, strict: unknown fields fail) and checked for the deployment
rules of docs/deploy.md: probes, resources, hardening, GPUs, autoscaling, disruption budgets, network policy."""

from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml

from fashionedit.services.common import metrics

from .tools import REPO, SERVICES, render_kustomization, settings_class, settings_problems

K8S_VERSION = "1.37.0"  # newest schema kubernetes-validate bundles; 1.33 checks the oldest cluster we aim at
KUSTOMIZATIONS = [
    "deploy/k8s/base",
    "deploy/k8s/overlays/dev",
    "deploy/k8s/overlays/prod",
    "deploy/k8s/overlays/prod-open",
    "deploy/k8s/overlays/prod-open-edit",
]
CPU_LIGHT = {"editor", "analyzer", "scorer"}
# The services that mostly wait on a provider scale on their requests in flight; the scorer's work is CPU.
ON_IN_FLIGHT = {"editor", "analyzer"}
MONITORING = "deploy/k8s/monitoring"
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
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        (signal,) = hpa["spec"]["metrics"]
        if name in ON_IN_FLIGHT:
            # The metric the services export (the shared module's name), averaged per pod, below the point
            # where the pod starts answering 503 overloaded: scale out before refusing.
            assert signal["type"] == "Pods" and signal["pods"]["metric"]["name"] == metrics.REQUESTS_IN_FLIGHT
            assert metrics.SPECS[metrics.REQUESTS_IN_FLIGHT].kind == "gauge"
            target = signal["pods"]["target"]
            assert target["type"] == "AverageValue"
            assert 0 < float(target["averageValue"]) < admission_limit(path, name), (name, target)
        else:
            assert signal["type"] == "Resource" and signal["resource"]["name"] == "cpu"
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


def admission_limit(path: str, service: str) -> int:
    """Requests one pod takes before 503 overloaded: MAX_CONCURRENCY (as configured, else the default) x workers."""
    env = config_env(path)
    settings = settings_class(service)
    prefix = f"FASHIONEDIT_{service.upper()}_"
    concurrency = int(env.get(prefix + "MAX_CONCURRENCY", settings.model_fields["max_concurrency"].default))
    default_workers = settings.model_fields["workers"].default if "workers" in settings.model_fields else 1
    workers = int(env.get(prefix + "WORKERS", default_workers))
    return concurrency * workers


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_prometheus_can_scrape_every_service(path: str) -> None:
    deployments = by_name(path, "Deployment")
    for name, port in SERVICES.items():
        annotations = deployments[name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"
    # BentoML keeps the workers' metric files under BENTOML_HOME: on the writable /tmp emptyDir.
    assert config_env(path)["BENTOML_HOME"].startswith("/tmp/")
    # Past the default deny, Prometheus's pods reach the http port of every service pod.
    policy = by_name(path, "NetworkPolicy")["allow-prometheus-scrape"]["spec"]
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
    (source,) = rule["from"]
    assert source["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus"}} and source["namespaceSelector"]
    for name in SERVICES:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert policy["podSelector"]["matchLabels"].items() <= labels.items(), f"Prometheus cannot reach {name}"


def test_the_service_monitor_scrapes_the_four_services_of_every_overlay() -> None:
    (monitor,) = render_kustomization(MONITORING)
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1" and monitor["kind"] == "ServiceMonitor"
    spec = monitor["spec"]
    assert spec["namespaceSelector"] == {"any": True}
    (endpoint,) = spec["endpoints"]
    assert endpoint["port"] == "http" and endpoint["path"] == "/metrics"
    for path in KUSTOMIZATIONS:
        selected = set()
        for name, service in by_name(path, "Service").items():
            labels = service["metadata"]["labels"]
            if spec["selector"]["matchLabels"].items() <= labels.items() and all(
                labels.get(e["key"]) in e["values"] for e in spec["selector"]["matchExpressions"]
            ):
                selected.add(name)
                assert [p for p in service["spec"]["ports"] if p["name"] == "http"], name
        assert selected == set(SERVICES), (path, selected)


def test_the_adapter_serves_the_metric_the_autoscalers_read() -> None:
    values = yaml.safe_load((REPO / MONITORING / "prometheus-adapter-values.yaml").read_text())
    assert values["rules"]["default"] is False
    served = {}
    for rule in values["rules"]["custom"]:
        series = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{", rule["seriesQuery"]).group(1)
        assert re.fullmatch(rule["name"]["matches"], series)
        served[rule["name"]["as"]] = series
        assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
        assert "<<.Series>>{<<.LabelMatchers>>}" in rule["metricsQuery"] and "by (<<.GroupBy>>)" in rule["metricsQuery"]
    # Every HPA's custom metric is served, from a series a service really exports (the shared module's names).
    exported = {name for spec in metrics.SPECS.values() for name in spec.scraped_names}
    for path in KUSTOMIZATIONS:
        for hpa in by_name(path, "HorizontalPodAutoscaler").values():
            for signal in hpa["spec"]["metrics"]:
                if signal["type"] == "Pods":
                    assert served.get(signal["pods"]["metric"]["name"]) in exported, (path, signal)


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


@pytest.mark.parametrize(
    "path", ["deploy/k8s/overlays/prod", "deploy/k8s/overlays/prod-open", "deploy/k8s/overlays/prod-open-edit"]
)
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
