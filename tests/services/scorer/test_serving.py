"""Serving logic in-process: CLIP/CLIP* from one batch, chunking, batching across requests, 422s, statuses."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from fashionedit.contracts import ImagePayload
from fashionedit.contracts.score import MAX_PAIRS_PER_REQUEST, ScoreRequest
from fashionedit.services.common import InvalidInput, Unavailable
from fashionedit.services.scorer.serving import ScorerServing
from fashionedit.services.scorer.settings import ScorerSettings

from .conftest import png, random_rgb


@pytest.fixture(scope="module")
def serving(tiny_clip_dir: Path) -> ScorerServing:
    settings = ScorerSettings(
        clip_model=f"local-dir:{tiny_clip_dir}",
        allow_random_weights=True,
        device="cpu",
        batch_size=4,
        decode_threads=2,
        lpips="off",
    )
    instance = ScorerServing(settings, background=False)
    yield instance
    instance.close()


def pairs(n: int, size=(64, 64)) -> list[dict]:
    return [
        {"id": f"p{i}", "generated": png(random_rgb(2 * i, size)), "reference": png(random_rgb(2 * i + 1, size))}
        for i in range(n)
    ]


def test_scores_are_one_batch_and_chunking_does_not_change_them(serving: ScorerServing, tiny_clip_dir: Path) -> None:
    request = ScoreRequest(pairs=pairs(5))
    before = serving.clip.get().batcher.forwards
    chunked = serving.score(request)
    # batch_size 4 images = 2 pairs per forward: 5 pairs need 3 forwards.
    assert serving.clip.get().batcher.forwards - before == 3
    whole = ScorerServing(
        ScorerSettings(
            clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, device="cpu", batch_size=64, lpips="off"
        ),
        background=False,
    )
    try:
        unchunked = whole.score(request)
    finally:
        whole.close()
    assert [s.id for s in chunked.scores] == [f"p{i}" for i in range(5)]
    for a, b in zip(chunked.scores, unchunked.scores):
        assert a.clip_cosine == pytest.approx(b.clip_cosine, abs=1e-5)
        assert a.psnr == b.psnr
        assert a.clip == pytest.approx(a.clip_cosine * 100.0)
    cos = [s.clip_cosine for s in chunked.scores]
    assert chunked.aggregate.clip == pytest.approx(100.0 * np.mean(cos))
    assert chunked.aggregate.clip_star == pytest.approx(100.0 * sum(c > 0.9 for c in cos) / 5)
    assert chunked.aggregate.n == 5 and chunked.aggregate.clip_n == 5
    assert chunked.model.random_weights is True and chunked.model.offline is True
    clip_status = chunked.metrics[0]
    assert clip_status.metric.value == "clip" and clip_status.available and clip_status.random_weights
    assert clip_status.weights.sha256 == chunked.model.weights.sha256
    assert {"prepare", "forward", "decode_cpu", "resize_cpu"} <= set(chunked.timings.stages)


def test_clip_star_threshold_boundary(serving: ScorerServing) -> None:
    base = serving.score(ScoreRequest(pairs=pairs(1), metrics=["clip"]))
    cosine = base.scores[0].clip_cosine
    assert 0.0 < cosine < 1.0
    at = serving.score(ScoreRequest(pairs=pairs(1), metrics=["clip"], clip_threshold=cosine))
    assert at.scores[0].clip_cosine == cosine
    assert at.scores[0].above_threshold is False and at.aggregate.clip_star == 0.0  # equal is not above
    below = serving.score(ScoreRequest(pairs=pairs(1), metrics=["clip"], clip_threshold=float(np.nextafter(cosine, 0.0))))
    assert below.scores[0].above_threshold is True and below.aggregate.clip_star == 100.0
    assert below.clip_threshold == float(np.nextafter(cosine, 0.0))


def test_requested_metrics_only(serving: ScorerServing) -> None:
    response = serving.score(ScoreRequest(pairs=pairs(2), metrics=["psnr"]))
    assert all(s.clip is None and s.psnr is not None for s in response.scores)
    assert response.aggregate.clip is None and response.aggregate.clip_star is None
    assert [m.metric.value for m in response.metrics] == ["psnr"]


def test_bad_images_are_422_with_location(serving: ScorerServing) -> None:
    good = png(random_rgb(1))
    truncated = ImagePayload.from_bytes(good.to_bytes()[: len(good.to_bytes()) // 2])  # header fine, pixels missing
    with pytest.raises(InvalidInput) as err:
        serving.score(ScoreRequest(pairs=[{"generated": good, "reference": good}, {"generated": good, "reference": truncated}]))
    assert err.value.status == 422 and err.value.details[0].loc == ["pairs", 1, "reference"]
    assert "truncated or corrupt" in err.value.message
    with pytest.raises(ValidationError):
        ScoreRequest(pairs=[{"generated": "bm90IGFuIGltYWdl", "reference": good}])  # "not an image"


def test_pair_limits() -> None:
    with pytest.raises(ValidationError):
        ScoreRequest(
            pairs=[{"generated": png(random_rgb(0, (8, 8))), "reference": png(random_rgb(1, (8, 8)))}]
            * (MAX_PAIRS_PER_REQUEST + 1)
        )
    with pytest.raises(ValidationError):
        ScoreRequest(pairs=[])
    limited = ScorerServing(ScorerSettings(backend="none", lpips="off", max_pairs=2), background=False)
    try:
        with pytest.raises(InvalidInput) as err:
            limited.score(ScoreRequest(pairs=pairs(3, (8, 8)), metrics=["psnr"]))
        assert err.value.status == 422 and "limit of 2" in err.value.message
        assert limited.info().limits["max_pairs_per_request"] == 2
    finally:
        limited.close()


def test_unavailable_clip_still_serves_psnr_and_says_why() -> None:
    offline = ScorerServing(ScorerSettings(backend="none", lpips="off"), background=False)
    try:
        response = offline.score(ScoreRequest(pairs=pairs(2)))  # default metrics: clip + psnr
        assert response.scores[0].clip is None and response.scores[0].psnr is not None
        clip_status = response.metrics[0]
        assert clip_status.available is False and "BACKEND=none" in clip_status.reason
        assert response.model.offline is True
        with pytest.raises(Unavailable) as err:
            offline.score(ScoreRequest(pairs=pairs(1), metrics=["clip"]))
        assert err.value.status == 503 and "clip" in err.value.message
        info = offline.info()
        assert info.ready and info.service == "scorer" and "psnr" in info.limits["metrics_available"]
        assert "clip unavailable" in info.message
    finally:
        offline.close()


def test_concurrent_requests_share_forwards(tiny_clip_dir: Path) -> None:
    settings = ScorerSettings(
        clip_model=f"local-dir:{tiny_clip_dir}",
        allow_random_weights=True,
        device="cpu",
        batch_size=64,
        batch_wait_ms=50,
        lpips="off",
    )
    instance = ScorerServing(settings, background=False)
    try:
        request = ScoreRequest(pairs=pairs(2), metrics=["clip"])
        alone = instance.score(request)
        batcher = instance.clip.get().batcher
        before = batcher.forwards
        results = [None] * 6
        barrier = threading.Barrier(6)

        def call(i: int) -> None:
            barrier.wait()
            results[i] = instance.score(request)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert batcher.forwards - before < 6  # at least two requests shared one forward
        for result in results:
            for a, b in zip(result.scores, alone.scores):
                assert a.clip_cosine == pytest.approx(b.clip_cosine, abs=1e-5)
    finally:
        instance.close()


def test_lpips_with_backbone_weights_in_the_torch_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LPIPS loads torchvision's backbone from the hub cache; random ones are refused unless allowed, then flagged."""
    import lpips
    import torch
    import torchvision

    from fashionedit.services.scorer.lpips_metric import backbone_checkpoint

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    settings = ScorerSettings(backend="none", lpips_net="squeeze")
    missing = ScorerServing(settings, background=False)
    try:
        statuses = missing.statuses()
        assert statuses["lpips"].available is False and "nothing is downloaded" in statuses["lpips"].reason
    finally:
        missing.close()

    path, prefix = backbone_checkpoint("squeeze")
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.squeezenet1_1(weights=None).state_dict(), path)
    refused = ScorerServing(settings, background=False)
    try:
        assert "random test weights" in refused.statuses()["lpips"].reason
    finally:
        refused.close()

    allowed = ScorerServing(settings.model_copy(update={"allow_random_weights": True}), background=False)
    try:
        request = ScoreRequest(pairs=pairs(3, (40, 50)), metrics=["psnr", "lpips"])
        response = allowed.score(request)
        status = response.metrics[1]
        assert status.available and status.random_weights and status.weights.source == "random"
        reference = lpips.LPIPS(net="squeeze", verbose=False).eval()
        from fashionedit.services.scorer.metrics import resize_for_psnr

        for pair, score in zip(request.pairs, response.scores):
            t = [
                torch.from_numpy(resize_for_psnr(np.asarray(p.to_pil()))).permute(2, 0, 1)[None].float() / 127.5 - 1
                for p in (pair.generated, pair.reference)
            ]
            with torch.no_grad():
                assert score.lpips == pytest.approx(float(reference(t[0], t[1])), abs=1e-5)
        assert response.aggregate.lpips == pytest.approx(np.mean([s.lpips for s in response.scores]))
    finally:
        allowed.close()
