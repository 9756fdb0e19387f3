"""The scorer's CLIP batcher exports its queue depth, its forward sizes and the images it refuses (in-process).

(``test_metrics.py`` tests the paper's metrics, PSNR and CLIP; these are the service's Prometheus metrics.)
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from fashionedit.contracts.score import ScoreRequest
from fashionedit.services.common import Overloaded, metrics
from fashionedit.services.scorer.backends import load_embedder
from fashionedit.services.scorer.batching import ForwardBatcher
from fashionedit.services.scorer.serving import ScorerServing
from fashionedit.services.scorer.settings import ScorerSettings
from tests.support.metrics import local

from .conftest import png, random_rgb


@pytest.fixture(scope="module")
def settings(tiny_clip_dir: Path) -> ScorerSettings:
    return ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, device="cpu", lpips="off")


class Gated:
    """The real tiny CLIP embedder, holding each forward until the gate opens (so inputs queue up meanwhile)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.gate = threading.Event()
        self.entered = threading.Event()

    def embed(self, batch: np.ndarray):
        self.entered.set()
        self.gate.wait(10)
        return self.embedder.embed(batch)


def inputs(embedder, count: int, seed: int) -> np.ndarray:
    from PIL import Image

    return np.stack([embedder.geometry(Image.fromarray(random_rgb(seed + i))) for i in range(count)])


def test_queue_depth_forward_sizes_and_refusals(settings: ScorerSettings) -> None:
    embedder = load_embedder(settings)
    gated = Gated(embedder)
    name = f"scorer-test-{uuid.uuid4().hex[:8]}"
    batcher = ForwardBatcher(gated, max_batch=8, name=name)  # type: ignore[arg-type]
    try:
        assert local(metrics.BATCH_QUEUE, service_name=name) == 0
        first = batcher.submit(inputs(embedder, 2, 0))
        assert gated.entered.wait(5)  # the forward thread holds it, blocked on the gate
        later = [batcher.submit(inputs(embedder, 3, 10)), batcher.submit(inputs(embedder, 2, 20))]
        assert local(metrics.BATCH_QUEUE, service_name=name) == 5 == batcher.queued_images()
        assert not batcher.has_room(4, limit=8)
        assert local(metrics.BATCH_REJECTED + "_total", service_name=name) == 4
        assert batcher.has_room(3, limit=8)
        assert local(metrics.BATCH_REJECTED + "_total", service_name=name) == 4  # room: nothing refused
        gated.gate.set()
        assert first.result(10)[0].shape[0] == 2
        assert [f.result(10)[0].shape[0] for f in later] == [3, 2]
        # One forward of 2, then one of 5 (both waiting requests together).
        assert batcher.forwards == 2
        assert local(metrics.BATCH_SIZE + "_count", service_name=name) == 2
        assert local(metrics.BATCH_SIZE + "_sum", service_name=name) == 7
        assert local(metrics.BATCH_SIZE + "_bucket", service_name=name, le="2.0") == 1
        assert local(metrics.BATCH_SIZE + "_bucket", service_name=name, le="8.0") == 2
        assert local(metrics.BATCH_QUEUE, service_name=name) == 0
    finally:
        gated.gate.set()
        batcher.close()
        embedder.close()


def test_a_full_clip_queue_is_503_overloaded_and_counted_as_rejected(settings: ScorerSettings) -> None:
    serving = ScorerServing(settings.model_copy(update={"max_queued_images": 4}), background=False)
    try:
        clip = serving.clip.get()
        gated = Gated(clip.embedder)
        clip.batcher.embedder = gated  # the service's own batcher, its forwards held at the gate
        rejected = local(metrics.BATCH_REJECTED + "_total", service_name="scorer")
        blocker = clip.batcher.submit(inputs(clip.embedder, 1, 0))
        assert gated.entered.wait(5)
        queued = clip.batcher.submit(inputs(clip.embedder, 2, 5))
        pairs = [{"generated": png(random_rgb(2 * i)), "reference": png(random_rgb(2 * i + 1))} for i in range(2)]
        with pytest.raises(Overloaded) as refused:
            serving.score(ScoreRequest(pairs=pairs, metrics=["clip"]))  # 2 queued + 4 > 4
        assert refused.value.reason == metrics.QUEUE_FULL
        assert local(metrics.BATCH_REJECTED + "_total", service_name="scorer") == rejected + 4
        gated.gate.set()
        blocker.result(10)
        queued.result(10)
    finally:
        serving.close()
