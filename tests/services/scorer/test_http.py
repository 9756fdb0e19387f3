"""The scorer through a real ``bentoml serve`` process: tiny random CLIP, and the offline default profile."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from fashionedit.contracts import ErrorResponse, ServiceInfo
from fashionedit.contracts.score import ScoreRequest, ScoreResponse
from tests.support.servers import BentoServer

from .conftest import png, random_rgb

pytestmark = pytest.mark.integration
TARGET = "fashionedit.services.scorer.service:Scorer"


@pytest.fixture(scope="module")
def servers(tiny_clip_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    logs = tmp_path_factory.mktemp("scorer-logs")
    empty = tmp_path_factory.mktemp("empty-cache")
    tiny = BentoServer(
        TARGET,
        env={
            "FASHIONEDIT_SCORER_CLIP_MODEL": f"local-dir:{tiny_clip_dir}",
            "FASHIONEDIT_SCORER_ALLOW_RANDOM_WEIGHTS": "true",
            "FASHIONEDIT_SCORER_MAX_PAIRS": "4",
            "FASHIONEDIT_SCORER_DECODE_THREADS": "2",
            "FASHIONEDIT_SCORER_LPIPS": "off",
        },
        log_path=logs / "tiny.log",
        startup_timeout=240,
    )
    default = BentoServer(
        TARGET,
        env={"HF_HUB_OFFLINE": "1", "FASHIONEDIT_SCORER_CLIP_CACHE_DIR": str(empty), "TORCH_HOME": str(empty)},
        log_path=logs / "default.log",
        startup_timeout=240,
    )
    errors: list[BaseException] = []

    def start(server: BentoServer) -> None:
        try:
            server.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in (tiny, default)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        if errors:
            raise errors[0]
        yield {"tiny": tiny, "default": default}
    finally:
        tiny.stop()
        default.stop()


def body(n: int, **extra) -> dict:
    request = ScoreRequest(
        pairs=[{"id": f"p{i}", "generated": png(random_rgb(2 * i)), "reference": png(random_rgb(2 * i + 1))} for i in range(n)],
        **extra,
    )
    return request.model_dump(mode="json", exclude_none=True)


def test_score_over_http_matches_in_process(servers, tiny_clip_dir: Path) -> None:
    from fashionedit.services.scorer.serving import ScorerServing
    from fashionedit.services.scorer.settings import ScorerSettings

    payload = body(3, metrics=["clip", "psnr", "ssim"])
    reply = httpx.post(servers["tiny"].url + "/v1/score", json=payload, timeout=60)
    assert reply.status_code == 200, reply.text
    response = ScoreResponse.model_validate(reply.json())
    local = ScorerServing(
        ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, lpips="off"), background=False
    )
    try:
        expected = local.score(ScoreRequest.model_validate(payload))
    finally:
        local.close()
    assert [s.id for s in response.scores] == ["p0", "p1", "p2"]
    for got, want in zip(response.scores, expected.scores):
        assert got.clip_cosine == pytest.approx(want.clip_cosine, abs=1e-5)
        assert got.psnr == pytest.approx(want.psnr, abs=1e-9) and got.ssim == pytest.approx(want.ssim, abs=1e-9)
    assert response.model.random_weights is True and response.model.weights.sha256 == expected.model.weights.sha256
    assert response.aggregate.clip_star == pytest.approx(expected.aggregate.clip_star)
    assert reply.headers.get("x-request-id")


def test_limits_and_bad_images_are_422(servers) -> None:
    url = servers["tiny"].url + "/v1/score"
    over = httpx.post(url, json=body(5, metrics=["psnr"]), timeout=60)
    assert over.status_code == 422
    assert "limit of 4" in ErrorResponse.model_validate(over.json()).error.message

    good = png(random_rgb(1))
    truncated = good.to_bytes()[: len(good.to_bytes()) // 2]
    import base64

    bad = {"pairs": [{"generated": good.root, "reference": base64.b64encode(truncated).decode()}]}
    reply = httpx.post(url, json=bad, timeout=60)
    assert reply.status_code == 422
    error = ErrorResponse.model_validate(reply.json()).error
    assert error.details[0].loc == ["pairs", 0, "reference"]

    garbage = httpx.post(url, json={"pairs": [{"generated": "bm90IGFuIGltYWdl", "reference": good.root}]}, timeout=60)
    assert garbage.status_code == 422 and ErrorResponse.model_validate(garbage.json()).error.code == "invalid_request"
    threshold = httpx.post(url, json={**body(1), "clip_threshold": 1.5}, timeout=60)
    assert threshold.status_code == 422


def test_info(servers) -> None:
    info = ServiceInfo.model_validate(httpx.post(servers["tiny"].url + "/v1/info", json={}, timeout=30).json())
    assert info.service == "scorer" and info.ready and info.model.random_weights
    assert info.limits["max_pairs_per_request"] == 4 and "clip" in info.limits["metrics_available"]


def test_default_profile_serves_psnr_and_explains_missing_clip(servers) -> None:
    url = servers["default"].url
    reply = httpx.post(url + "/v1/score", json=body(2), timeout=60)
    assert reply.status_code == 200, reply.text
    response = ScoreResponse.model_validate(reply.json())
    clip, psnr = response.metrics
    assert clip.available is False and "HF_HUB_OFFLINE=1" in clip.reason and psnr.available
    assert all(s.clip is None and s.psnr is not None for s in response.scores)
    assert response.aggregate.psnr == pytest.approx(np.mean([s.psnr for s in response.scores]))
    assert response.model.offline is True and response.model.model_id == "ViT-L-14"

    only_clip = httpx.post(url + "/v1/score", json=body(1, metrics=["clip"]), timeout=60)
    assert only_clip.status_code == 503
    assert ErrorResponse.model_validate(only_clip.json()).error.code == "unavailable"
    info = ServiceInfo.model_validate(httpx.post(url + "/v1/info", json={}, timeout=30).json())
    assert info.ready and "clip unavailable" in info.message and "lpips unavailable" in info.message
