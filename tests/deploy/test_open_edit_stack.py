"""The fully open stack that edits from image prompts: compose profile ``open-edit`` and the Kubernetes
overlay ``prod-open-edit`` (both also go through every generic check in test_compose / test_k8s)."""

from __future__ import annotations

import json

from .test_compose import rendered
from .test_k8s import by_name, config_env, container, docs, gpus

OVERLAY = "deploy/k8s/overlays/prod-open-edit"


def _gib(quantity: str) -> float:
    assert quantity.endswith("Gi"), quantity
    return float(quantity[:-2])


def test_compose_open_edit_runs_open_models_only() -> None:
    services = rendered("open-edit")["services"]
    editor = services["editor-open"]["environment"]
    assert editor["FASHIONEDIT_EDITOR_BACKEND"] == "qwen-edit" and editor["FASHIONEDIT_EDITOR_ALLOWED_BACKENDS"] == "flux-kontext"
    assert editor["FASHIONEDIT_EDITOR_QWEN_EDIT_MODEL"] == "Qwen/Qwen-Image-Edit-2509"
    assert editor["FASHIONEDIT_EDITOR_FLUX_KONTEXT_MODEL"] == "black-forest-labs/FLUX.1-Kontext-dev"
    assert services["analyzer-vlm"]["environment"]["FASHIONEDIT_ANALYZER_BACKEND"] == "openai-vlm"
    assert services["generator"]["environment"]["FASHIONEDIT_GENERATOR_BACKEND"] == "sd3"
    assert services["scorer"]["environment"]["FASHIONEDIT_SCORER_BACKEND"] == "open-clip"
    text = json.dumps(services)
    assert "openai_api_key" not in text and "OPENAI_API_KEY" not in text  # nothing goes to a third party
    assert services["editor-open"]["healthcheck"]["start_period"] == "30m0s"  # compose's rendering of 1800s: ~90 GB to load


def test_overlay_puts_the_open_editor_on_a_large_gpu_with_the_weights_volume() -> None:
    env = config_env(OVERLAY)
    assert env["FASHIONEDIT_EDITOR_BACKEND"] == "qwen-edit" and env["FASHIONEDIT_EDITOR_ALLOWED_BACKENDS"] == "flux-kontext"
    assert env["FASHIONEDIT_EDITOR_OPEN_EDIT_DEVICE"] == "cuda" and env["FASHIONEDIT_EDITOR_OPEN_EDIT_CPU_OFFLOAD"] == "model"
    assert env["FASHIONEDIT_ANALYZER_BACKEND"] == "openai-vlm" and env["FASHIONEDIT_GENERATOR_BACKEND"] == "sd3"
    deployments = by_name(OVERLAY, "Deployment")
    editor = deployments["editor"]
    main = container(editor)
    assert gpus(editor) == 1 and main["image"].endswith(":0.1.0-gpu")
    # model offload keeps both pipelines (~90 GB in bf16) in host memory
    assert _gib(main["resources"]["requests"]["memory"]) >= 100
    assert editor["spec"]["template"]["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    mounts = {m["mountPath"]: m for m in main["volumeMounts"]}
    assert mounts["/models"]["readOnly"] is True
    startup = main["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800
    assert "editor" not in {h["spec"]["scaleTargetRef"]["name"] for h in by_name(OVERLAY, "HorizontalPodAutoscaler").values()}
    (claim,) = [c for c in docs(OVERLAY, "PersistentVolumeClaim") if c["metadata"]["name"] != "studio-sessions"]  # the weights
    assert _gib(claim["spec"]["resources"]["requests"]["storage"]) >= 200  # SD3 + both editors + the VLM + CLIP
    assert "fashionedit-openai" not in str(docs(OVERLAY))
