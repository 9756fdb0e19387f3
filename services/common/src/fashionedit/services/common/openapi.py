"""Each service's OpenAPI 3.1 document, built from the contracts themselves.

BentoML's generated document declares OpenAPI 3.0.2 while using 3.1 constructs, drops
nullability and leaves out the errors a caller can get. This one is built straight from the
pydantic request/response models (their JSON Schema is OpenAPI 3.1's dialect), marks every body
required, and documents every status the shared edge produces with the one error shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from fashionedit.contracts import ErrorResponse

REF = "#/components/schemas/{model}"

# What the shared edge (middleware, binding, errors) can answer on any API route.
ERROR_STATUSES: dict[str, str] = {
    "401": "Missing or wrong bearer token (when the deployment sets one)",
    "413": "Body over the deployment's size limit, or more work than one request may ask for",
    "415": "The body is not JSON",
    "422": "The request does not match the contract (per-field details)",
    "500": "A bug; the message carries the request id only",
    "502": "The upstream provider answered with something unusable",
    "503": "Overloaded, still loading, a capability not configured, or the provider unavailable (see Retry-After; "
    "x-should-retry: true when overloaded or still loading, false when the service already retried its provider)",
    "504": "The request used up its time budget, or the provider did not answer in time",
}


def build_document(
    title: str, version: str, routes: dict[str, tuple[type[BaseModel], type[BaseModel] | None, str]]
) -> dict[str, Any]:
    """``routes``: path -> (request model, response model, summary)."""
    pairs: list[tuple[type[BaseModel], Any]] = [(ErrorResponse, "serialization")]
    for request_model, response_model, _ in routes.values():
        pairs.append((request_model, "validation"))
        if response_model is not None:
            pairs.append((response_model, "serialization"))
    keys, schema = models_json_schema(pairs, ref_template=REF)
    components = schema.get("$defs", {})

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return keys[(model, mode)]  # type: ignore[index]

    error_content = {"application/json": {"schema": ref(ErrorResponse, "serialization")}}
    paths: dict[str, Any] = {}
    for path, (request_model, response_model, summary) in sorted(routes.items()):
        responses: dict[str, Any] = {
            "200": {
                "description": "Success",
                "content": {"application/json": {"schema": ref(response_model, "serialization") if response_model else {}}},
            }
        }
        for status, description in ERROR_STATUSES.items():
            responses[status] = {"description": description, "content": error_content}
        paths[path] = {
            "post": {
                "summary": summary,
                "operationId": path.strip("/").replace("/", "_"),
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref(request_model, "validation")}}},
                "responses": responses,
            }
        }
    for path, description in (("/livez", "The process is up"), ("/readyz", "The model is loaded and requests are served")):
        paths[path] = {
            "get": {
                "summary": description,
                "operationId": path.strip("/"),
                "responses": {"200": {"description": description}, "503": {"description": "Not (yet) ready"}},
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {"schemas": components},
    }
