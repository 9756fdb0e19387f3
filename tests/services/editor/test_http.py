"""The editor over real HTTP: `bentoml serve` processes (one local, one openai-responses) per module."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fashionedit.contracts import Box2D, EditResponse, ErrorResponse, ServiceInfo
from tests.support.servers import BentoServer

from .conftest import design_image, payload, reference_patch
from .helpers import abs_diff, box_masks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TARGET = "fashionedit.services.editor.service:Editor"
BOX = [250.0, 250.0, 625.0, 625.0]


@pytest.fixture(scope="module")
def servers(sd3_dir, openai_server, tmp_path_factory):
    """Both servers, started side by side: start-up (imports, tiny SD3 load) dominates this module."""
    pytest.importorskip("cv2")
    logs = tmp_path_factory.mktemp("editor-http")
    local = BentoServer(
        TARGET,
        env={
            "FASHIONEDIT_EDITOR_BACKEND": "local",
            "FASHIONEDIT_EDITOR_LOCAL_SD3_MODEL": str(sd3_dir),
            "FASHIONEDIT_EDITOR_LOCAL_STEPS": "2",
        },
        log_path=logs / "local.log",
        startup_timeout=240,
    )
    gateway = BentoServer(
        TARGET,
        env={
            "FASHIONEDIT_EDITOR_BACKEND": "openai-responses",
            "FASHIONEDIT_EDITOR_OPENAI_API_KEY": openai_server.api_key,
            "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": openai_server.base_url,
            "FASHIONEDIT_EDITOR_OPENAI_MAX_RETRIES": "1",
        },
        log_path=logs / "openai.log",
        startup_timeout=240,
    )
    try:
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(server.start) for server in (local, gateway)]:
                future.result()
        yield {"local": local, "openai": gateway}
    finally:
        local.stop()
        gateway.stop()


@pytest.fixture(scope="module")
def local_server(servers):
    return servers["local"]


@pytest.fixture(scope="module")
def openai_gateway(servers):
    return servers["openai"]


def b64(img) -> str:
    return base64.b64encode(payload(img).to_bytes()).decode()


def error_of(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse.model_validate(response.json())


def test_local_reference_into_box_over_http(local_server):
    design = design_image()
    response = httpx.post(
        local_server.url + "/v1/edit",
        json={"image": b64(design), "instruction": "a checked pocket", "references": [b64(reference_patch())], "target_box": BOX},
        headers={"X-Request-ID": "http-local-1"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "http-local-1"
    edited = EditResponse.model_validate(response.json())
    inside, outside = box_masks(Box2D(tuple(BOX)), (64, 64))
    diff = abs_diff(edited.image, design)
    assert diff[outside].max() <= 1.0 and diff[inside].mean() > 40.0
    assert edited.mode.value == "text+image" and edited.request_id == "http-local-1"


def test_local_flat_text_edit_over_http(local_server):
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    flat = flats.to_png_bytes(flats.render_flat(GarmentAttributes(upper=UpperGarment(type="shirt", color="white")), (96, 96)))
    response = httpx.post(
        local_server.url + "/v1/edit", json={"image": base64.b64encode(flat).decode(), "instruction": "make it red"}, timeout=60
    )
    assert response.status_code == 200, response.text
    edited = EditResponse.model_validate(response.json())
    assert flats.read_attributes(edited.image.to_bytes()).upper.color.value == "red"

    response = httpx.post(
        local_server.url + "/v1/edit",
        json={"image": base64.b64encode(flat).decode(), "instruction": "make it glorbish"},
        timeout=60,
    )
    assert response.status_code == 422 and "'glorbish'" in error_of(response).error.message


def test_local_text_edit_of_a_picture_says_random_weights(local_server):
    response = httpx.post(
        local_server.url + "/v1/edit", json={"image": b64(design_image()), "instruction": "a red dress", "seed": 1}, timeout=60
    )
    assert response.status_code == 200, response.text
    model = EditResponse.model_validate(response.json()).model
    assert model.random_weights and model.offline


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"instruction": "x"}, "image"),
        ({"image": "bm90IGFuIGltYWdl", "instruction": "x"}, "image"),
        ({"instruction": "x", "references": ["bm90IGFuIGltYWdl"]}, "references"),
        ({"instruction": "x", "target_box": [0, 0, 1200, 500]}, "outside 0-1000"),
        ({"instruction": "x", "target_box": [500, 0, 100, 500]}, "zero or negative area"),
        ({"instruction": "   "}, "instruction"),
        ({"instruction": "x", "references": ["REF", "REF"]}, "at most 1"),
        ({"instruction": "x", "backend": "openai-images"}, "not enabled"),
    ],
    ids=[
        "missing-image",
        "undecodable-image",
        "undecodable-reference",
        "box-out-of-range",
        "box-reversed",
        "blank-instruction",
        "too-many-references",
        "backend-not-allowed",
    ],
)
def test_bad_input_is_a_422_with_the_shared_error_shape(local_server, body, needle):
    body = dict(body)
    if "image" not in body and needle != "image":  # every case but "missing image" sends a good design
        body["image"] = b64(design_image())
    if "references" in body:
        body["references"] = [b64(reference_patch()) if r == "REF" else r for r in body["references"]]
    response = httpx.post(local_server.url + "/v1/edit", json=body, timeout=60)
    assert response.status_code == 422, response.text
    error = error_of(response).error
    assert error.code == "invalid_request" and error.request_id
    assert needle in error.message or any(needle in str(d.loc) + d.message for d in error.details)


def test_local_info(local_server):
    response = httpx.post(local_server.url + "/v1/info", json={}, timeout=30)
    info = ServiceInfo.model_validate(response.json())
    assert info.service == "editor" and info.ready and info.backends == ["local"]
    assert info.limits["max_references"] == {"local": 1} and info.model.random_weights


def test_openai_gateway_forwards_the_request_id_and_keeps_the_key(openai_gateway, openai_fake):
    design = design_image()
    response = httpx.post(
        openai_gateway.url + "/v1/edit",
        json={"image": b64(design), "instruction": "add a pocket", "references": [b64(reference_patch())], "target_box": BOX},
        headers={"X-Request-ID": "http-openai-1"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    [sent] = openai_fake.requests("responses")
    assert sent["headers"]["x-request-id"] == "http-openai-1"
    assert len(sent["images"]) == 2 and sent["mask"] is not None
    edited = EditResponse.model_validate(response.json())
    assert edited.model.backend == "openai-responses" and edited.usage.images == 1

    info = httpx.post(openai_gateway.url + "/v1/info", json={}, timeout=30)
    key = openai_fake.api_key
    assert key not in info.text and key not in response.text
    assert key not in openai_gateway.log_tail(10**7)


def test_openai_gateway_rate_limit_is_a_503_with_retry_after(openai_gateway, openai_fake):
    openai_fake.script("responses", {"status": 429, "headers": {"retry-after-ms": "300"}, "times": 2})
    response = httpx.post(openai_gateway.url + "/v1/edit", json={"image": b64(design_image()), "instruction": "x"}, timeout=60)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"  # 0.3 s rounded up to the header's whole seconds
    error = error_of(response).error
    assert error.code == "upstream_unavailable" and error.retry_after == pytest.approx(0.3)
    assert len(openai_fake.requests("responses")) == 2


def test_openai_gateway_answer_without_an_image_is_a_502(openai_gateway, openai_fake):
    openai_fake.script("responses", {"no_image": True})
    response = httpx.post(openai_gateway.url + "/v1/edit", json={"image": b64(design_image()), "instruction": "x"}, timeout=60)
    assert response.status_code == 502 and error_of(response).error.code == "upstream_error"


def _edit(openai_gateway, **extra):
    body = {"image": b64(design_image()), "instruction": "add a pocket", **extra}
    return httpx.post(openai_gateway.url + "/v1/edit", json=body, timeout=60)


@pytest.mark.parametrize("status", [200, 400, 429, 500])
def test_openai_gateway_never_passes_on_an_echoed_key(openai_gateway, openai_fake, status):
    """A provider that echoes the key in every text field: not in the reply (200 or error), not in the log."""
    openai_fake.script("responses", {"echo_key": True, **({"status": status} if status != 200 else {}), "times": 2})
    response = _edit(openai_gateway)
    key = openai_fake.api_key
    assert response.status_code == {200: 200, 400: 422, 429: 503, 500: 502}[status], response.text
    assert key not in response.text and key[-4:] + "]" not in response.text
    if status == 200:
        edited = EditResponse.model_validate(response.json())
        assert "<redacted>" in edited.revised_prompt and "<redacted>" in edited.model.model_id
    else:
        assert "<redacted>" in error_of(response).error.message
    assert key not in openai_gateway.log_tail(10**7)


@pytest.mark.parametrize(
    "reply",
    [
        {"body": "{not json", "headers": {"content-type": "application/json"}},
        {"body": "<html><body>502 Bad Gateway</body></html>", "headers": {"content-type": "text/html"}},
        {"json": {"output": "not a list"}},
        {"json": [1, 2, 3]},
    ],
    ids=["invalid-json", "html", "wrong-shape", "a-list"],
)
def test_openai_gateway_unreadable_200_is_a_502(openai_gateway, openai_fake, reply):
    openai_fake.script("responses", reply)
    response = _edit(openai_gateway)
    assert response.status_code == 502, response.text
    assert error_of(response).error.code == "upstream_error"
