"""qwen-edit and flux-kontext over real HTTP: `bentoml serve` with tiny random pipelines loaded from
their saved folders, plus a server whose hub weights are not in the (offline) cache."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from fashionedit.contracts import Box2D, EditResponse, ErrorResponse, ServiceInfo
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT
from tests.support.open_edit_models import TINY_OPEN_EDIT_ENV, kontext_folder, qwen_edit_folder
from tests.support.servers import BentoServer

from .conftest import design_image, payload, reference_patch
from .helpers import abs_diff, box_masks

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TARGET = "fashionedit.services.editor.service:Editor"
BOX = [250.0, 250.0, 625.0, 750.0]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    logs = tmp_path_factory.mktemp("editor-open-http")
    ready = BentoServer(
        TARGET,
        env={
            "FASHIONEDIT_EDITOR_BACKEND": "qwen-edit",
            "FASHIONEDIT_EDITOR_ALLOWED_BACKENDS": "flux-kontext",
            "FASHIONEDIT_EDITOR_QWEN_EDIT_MODEL": str(qwen_edit_folder(tmp_path_factory)),
            "FASHIONEDIT_EDITOR_FLUX_KONTEXT_MODEL": str(kontext_folder(tmp_path_factory)),
            **TINY_OPEN_EDIT_ENV,
        },
        log_path=logs / "open.log",
        startup_timeout=240,
    )
    missing = BentoServer(
        TARGET,
        env={
            "FASHIONEDIT_EDITOR_BACKEND": "flux-kontext",
            "FASHIONEDIT_EDITOR_FLUX_KONTEXT_MODEL": "black-forest-labs/FLUX.1-Kontext-dev",
            "HF_HOME": str(logs / "empty-hf-home"),
        },
        health_path="/livez",
        log_path=logs / "missing.log",
        startup_timeout=240,
    )
    try:
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(server.start) for server in (ready, missing)]:
                future.result()
        yield {"ready": ready, "missing": missing}
    finally:
        ready.stop()
        missing.stop()


@pytest.fixture(scope="module")
def server(servers):
    return servers["ready"]


def b64(img: Image.Image) -> str:
    return base64.b64encode(payload(img).to_bytes()).decode()


def post_edit(server, **body) -> httpx.Response:
    return httpx.post(server.url + "/v1/edit", json=body, timeout=120)


def edited(response: httpx.Response) -> EditResponse:
    assert response.status_code == 200, response.text
    return EditResponse.model_validate(response.json())


def error_of(response: httpx.Response) -> ErrorResponse:
    return ErrorResponse.model_validate(response.json())


@pytest.mark.parametrize("backend", ["qwen-edit", "flux-kontext"])
def test_vanilla_then_bug_rounds_over_http(server, backend):
    design = design_image(64).resize((64, 48))
    vanilla = edited(post_edit(server, image=b64(design), instruction="a white collar", backend=backend, seed=2))
    bug = edited(
        post_edit(
            server,
            image=base64.b64encode(vanilla.image.to_bytes()).decode(),
            instruction="a checked pocket",
            references=[b64(reference_patch())],
            backend=backend,
            seed=2,
        )
    )
    assert vanilla.image.size == bug.image.size == (64, 48)
    assert (vanilla.mode.value, bug.mode.value) == ("text", "text+image")
    assert vanilla.prompt == VANILLA_PROMPT + "a white collar" and bug.prompt == BUG_PROMPT + "a checked pocket"
    for response in (vanilla, bug):
        assert response.model.backend == backend and response.model.random_weights and response.model.offline
        assert set(response.timings.stages) >= {"validate", "decode", "edit", "encode"}
    assert ("stitched" in " ".join(bug.warnings)) == (backend == "flux-kontext")


@pytest.mark.parametrize("backend", ["qwen-edit", "flux-kontext"])
def test_a_seed_repeats_the_image_over_http(server, backend):
    body = dict(image=b64(design_image()), instruction="short sleeves", references=[b64(reference_patch())], backend=backend)
    first, again = edited(post_edit(server, seed=7, **body)), edited(post_edit(server, seed=7, **body))
    other = edited(post_edit(server, seed=8, **body))
    assert first.image.to_bytes() == again.image.to_bytes()
    assert abs_diff(first.image, other.image).mean() > 0.5


def test_qwen_reads_the_references_in_the_order_sent(server):
    red = Image.new("RGB", (32, 32), (220, 20, 20))
    blue = Image.new("RGB", (32, 32), (20, 20, 220))
    body = dict(image=b64(design_image()), instruction="x", seed=4)
    red_blue = edited(post_edit(server, references=[b64(red), b64(blue)], **body))
    again = edited(post_edit(server, references=[b64(red), b64(blue)], **body))
    blue_red = edited(post_edit(server, references=[b64(blue), b64(red)], **body))
    assert red_blue.image.to_bytes() == again.image.to_bytes()
    assert red_blue.image.to_bytes() != blue_red.image.to_bytes()  # the model sees "Picture 2" and "Picture 3" differently


@pytest.mark.parametrize("backend", ["qwen-edit", "flux-kontext"])
def test_only_the_box_changes_over_http(server, backend):
    design = design_image()
    response = edited(
        post_edit(
            server,
            image=b64(design),
            instruction="a red pocket",
            references=[b64(reference_patch())],
            target_box=BOX,
            backend=backend,
            seed=1,
        )
    )
    inside, outside = box_masks(Box2D(tuple(BOX)), design.size)
    diff = abs_diff(response.image, design)
    assert diff[outside].max() == 0.0 and diff[inside].mean() > 5.0
    assert response.target_box == Box2D(tuple(BOX))


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"instruction": "x"}, "image"),
        ({"image": "bm90IGFuIGltYWdl", "instruction": "x"}, "image"),
        ({"instruction": "x", "references": ["bm90IGFuIGltYWdl"]}, "references"),
        ({"instruction": "x", "target_box": [0, 0, 1200, 500]}, "outside 0-1000"),
        ({"instruction": "x", "target_box": [500, 0, 100, 500]}, "zero or negative area"),
        ({"instruction": "   "}, "instruction"),
        ({"instruction": "x", "size": "20000x20"}, "size"),
        ({"instruction": "x", "references": ["REF"] * 3}, "accepts at most 2"),
        ({"instruction": "x", "references": ["REF"] * 2, "backend": "flux-kontext"}, "accepts at most 1"),
        ({"instruction": "x", "backend": "openai-images"}, "not enabled"),
        ({"instruction": "x", "backend": "no-such-editor"}, "backend"),
    ],
    ids=[
        "missing-image",
        "undecodable-image",
        "undecodable-reference",
        "box-out-of-range",
        "box-reversed",
        "blank-instruction",
        "size-too-large",
        "qwen-too-many-references",
        "kontext-too-many-references",
        "backend-not-allowed",
        "backend-unknown",
    ],
)
def test_bad_input_is_a_422_with_the_shared_error_shape(server, body, needle):
    body = dict(body)
    if "image" not in body and needle != "image":
        body["image"] = b64(design_image())
    if "references" in body:
        body["references"] = [b64(reference_patch()) if r == "REF" else r for r in body["references"]]
    response = post_edit(server, **body)
    assert response.status_code == 422, response.text
    error = error_of(response).error
    assert error.code == "invalid_request" and error.request_id
    assert needle in error.message or any(needle in str(d.loc) + d.message for d in error.details)


def test_info_over_http(server):
    info = ServiceInfo.model_validate(httpx.post(server.url + "/v1/info", json={}, timeout=30).json())
    assert info.ready and info.backends == ["qwen-edit", "flux-kontext"]
    assert info.limits["max_references"] == {"qwen-edit": 2, "flux-kontext": 1}
    assert info.model.model_id == "qwen-image-edit-tiny (random weights)" and info.model.weights.source == "random"
    assert "/" not in info.model.weights.name  # an identity, not this machine's path


def test_weights_missing_offline_leave_the_service_not_ready_with_the_reason(servers):
    server = servers["missing"]
    assert httpx.get(server.url + "/readyz", timeout=10).status_code == 503
    info = ServiceInfo.model_validate(httpx.post(server.url + "/v1/info", json={}, timeout=30).json())
    assert not info.ready and info.model is None
    assert "black-forest-labs/FLUX.1-Kontext-dev" in info.message and "HF_HUB_OFFLINE=1" in info.message
    response = post_edit(server, image=b64(design_image()), instruction="x")
    assert response.status_code == 503
    assert error_of(response).error.code == "not_ready"
    assert "Traceback" not in response.text
