"""Each service's OpenAPI document, served by a real ``bentoml serve``: valid, honest, and strict.

A bounded schemathesis run per service checks that what the document promises is what the
server does: no 5xx bugs, every status documented, every body in its documented shape.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.servers import BentoServer

pytestmark = pytest.mark.integration

schemathesis = pytest.importorskip("schemathesis")
openapi_spec_validator = pytest.importorskip("openapi_spec_validator")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 12  # per operation: a few minutes for all four services on a small CPU box
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def services(openai_server, tmp_path_factory):
    logs = tmp_path_factory.mktemp("openapi")
    servers = {
        "generator": BentoServer(
            "fashionedit.services.generator.service:Generator",
            env={"FASHIONEDIT_GENERATOR_TIMEOUT_S": "20"},
            log_path=logs / "generator.log",
        ),
        "editor": BentoServer(
            "fashionedit.services.editor.service:Editor",
            env={
                "FASHIONEDIT_EDITOR_BACKEND": "openai-responses",
                "FASHIONEDIT_EDITOR_OPENAI_API_KEY": openai_server.api_key,
                "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": openai_server.base_url,
                "FASHIONEDIT_EDITOR_OPENAI_MAX_RETRIES": "0",
            },
            log_path=logs / "editor.log",
        ),
        "analyzer": BentoServer(
            "fashionedit.services.analyzer.service:Analyzer",
            env={"FASHIONEDIT_ANALYZER_TIMEOUT_S": "20"},
            log_path=logs / "analyzer.log",
        ),
        "scorer": BentoServer(
            "fashionedit.services.scorer.service:Scorer", env={"FASHIONEDIT_SCORER_TIMEOUT_S": "20"}, log_path=logs / "scorer.log"
        ),
    }
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            for future in [pool.submit(server.start) for server in servers.values()]:
                future.result()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


SERVICES = ["generator", "editor", "analyzer", "scorer"]


@pytest.mark.parametrize("name", SERVICES)
def test_the_document_validates_and_documents_every_error(services, name) -> None:
    document = httpx.get(services[name].url + "/docs.json", timeout=10).json()
    openapi_spec_validator.validate(document)  # raises on an invalid document
    assert document["openapi"].startswith("3.1")
    for path, item in document["paths"].items():
        if "post" in item:
            operation = item["post"]
            assert operation["requestBody"]["required"] is True
            assert {"413", "415", "422", "503", "504"} <= set(operation["responses"]), path


@pytest.mark.parametrize("name", SERVICES)
def test_docs_leads_to_the_swagger_ui_that_reads_the_document(services, name) -> None:
    """``/docs`` (where the docs say the UI is) answers, and the UI it leads to is BentoML's page at ``/``."""
    response = httpx.get(services[name].url + "/docs", timeout=10, follow_redirects=True)
    assert response.status_code == 200 and "swagger" in response.text.lower()
    assert str(response.url).rstrip("/") == services[name].url.rstrip("/")


@pytest.mark.parametrize(
    "name,route,body,loc",
    [
        ("generator", "/v1/generate", {"prompt": "a coat", "width": "256"}, ["width"]),
        ("generator", "/v1/generate", {"prompt": "a coat", "guidance": False}, ["guidance"]),
        ("analyzer", "/v1/analyze", {"original": "x", "generated": "x", "include_crops": "yes"}, ["include_crops"]),
        ("scorer", "/v1/score", {"pairs": [], "clip_threshold": "0.9"}, ["clip_threshold"]),
    ],
)
def test_lenient_coercions_are_422(services, name, route, body, loc) -> None:
    r = httpx.post(services[name].url + route, json=body, timeout=30)
    assert r.status_code == 422, r.text
    assert any(d["loc"] == loc for d in r.json()["error"]["details"]), r.text


def test_a_json_integer_still_fills_a_float(services) -> None:
    r = httpx.post(
        services["generator"].url + "/v1/generate",
        json={"prompt": "a coat", "width": 256, "height": 256, "guidance": 4},
        timeout=60,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("name", SERVICES)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(services, name) -> None:
    url = services[name].url
    schema = schemathesis.openapi.from_url(url + "/docs.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy()

        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case) -> None:
            response = case.call_and_validate(base_url=url, checks=CHECKS, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            given(strategy)(run)()
        except Exception as exc:  # noqa: BLE001 - collect per operation, report all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)[:6000]
    assert sum(statuses.values()) >= MAX_EXAMPLES and not any(status >= 500 for status in statuses), statuses
    print(name, statuses)
