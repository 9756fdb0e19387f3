"""Every service publishes an OpenAPI document (GET /docs.json) built from the contracts."""

from __future__ import annotations

import importlib

import httpx
import pytest

from tests.services.common.test_plumbing_http import probe  # noqa: F401 - shared server fixture

SERVICES = [
    ("fashionedit.services.generator.service", "Generator", "/v1/generate"),
    ("fashionedit.services.editor.service", "Editor", "/v1/edit"),
    ("fashionedit.services.analyzer.service", "Analyzer", "/v1/analyze"),
    ("fashionedit.services.scorer.service", "Scorer", "/v1/score"),
]


@pytest.mark.parametrize("module,name,route", SERVICES)
def test_openapi_document_builds_from_the_contracts(module: str, name: str, route: str) -> None:
    service = getattr(importlib.import_module(module), name)
    spec = service.openapi_spec.asdict()
    assert route in spec["paths"] and "/v1/info" in spec["paths"]
    assert spec["paths"][route]["post"]["requestBody"]["content"]["application/json"]["schema"]


@pytest.mark.integration
def test_docs_json_is_served(probe) -> None:  # noqa: F811 - the module fixture from test_plumbing_http
    r = httpx.get(probe.url + "/docs.json", timeout=10)
    assert r.status_code == 200 and "/v1/generate" in r.json()["paths"]
