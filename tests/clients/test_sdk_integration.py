"""The SDK against the real services (`bentoml serve`, offline profile)."""

from __future__ import annotations

import asyncio

import pytest
from PIL import Image

from fashionedit.client import (
    AsyncFashionEditClient,
    AsyncGeneratorClient,
    FashionEditClient,
    InvalidRequestError,
    ServiceUnavailableError,
)
from fashionedit.contracts import AnalyzeResponse, EditMode, GenerateResponse, Metric
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

PROMPT = "This lady is wearing a long-sleeve white blazer with a lapel neckline."


@pytest.fixture(scope="module")
def client(service_stack):
    with FashionEditClient(service_stack.client_settings()) as c:
        yield c


def test_info_and_readiness_say_offline_profile(client):
    assert all(client.ready().values())
    infos = client.info()
    assert {name: info.service for name, info in infos.items()} == {n: n for n in ("generator", "editor", "analyzer", "scorer")}
    assert all(info.ready and info.model is not None and info.model.offline for info in infos.values())
    assert infos["generator"].model.backend == "flats" and infos["analyzer"].model.backend == "classical"


def test_generate_edit_analyze_score_round_trip(client):
    draft = client.generator.generate(prompt=PROMPT, width=128, height=128, seed=3, num_images=2)
    assert len(draft.images) == 2 and draft.images[0].image.size == (128, 128) and draft.model.offline
    again = client.generator.generate(prompt=PROMPT, width=128, height=128, seed=3, num_images=2)
    assert again.images[0].image.to_bytes() == draft.images[0].image.to_bytes()  # seeded: deterministic

    image = draft.images[0].image
    text = client.editor.edit(image=image, instruction="make the blazer navy")
    assert text.mode is EditMode.TEXT and text.image.to_bytes() != image.to_bytes()
    reference = Image.new("RGB", (24, 24), (200, 160, 30))
    visual = client.editor.edit(
        image=text.image, instruction="add this patch", references=[reference], target_box=[400, 400, 600, 600]
    )
    assert visual.mode is EditMode.TEXT_IMAGE and visual.model.offline

    analysis = client.analyzer.analyze(original=image, generated=text.image, k=2)
    assert isinstance(analysis, AnalyzeResponse) and 1 <= len(analysis.differences) <= 2
    assert all(d.crop is not None for d in analysis.differences)

    scores = client.scorer.score([("same", image, image), ("edited", text.image, image)])
    by_id = {s.id: s for s in scores.scores}
    assert by_id["edited"].psnr < by_id["same"].psnr and scores.aggregate.n == 2
    clip = next(m for m in scores.metrics if m.metric is Metric.CLIP)
    assert not clip.available and clip.reason  # offline: CLIP reported unavailable, never faked


def test_service_errors_arrive_as_parsed_error_responses(client):
    with pytest.raises(InvalidRequestError) as info:
        client.generator.transport.post("/v1/generate", {"prompt": "   "}, GenerateResponse, operation="generate")
    body = info.value.response.error
    assert body.status == 422 and body.code == "invalid_request" and body.request_id and body.details[0].loc == ["prompt"]

    with pytest.raises(ServiceUnavailableError) as unavailable:
        client.scorer.score([(Image.new("RGB", (32, 32)), Image.new("RGB", (32, 32), (9, 9, 9)))], metrics=["clip"])
    assert unavailable.value.code == "unavailable" and unavailable.value.attempts == 1  # a missing capability is not retried


async def test_async_bounded_concurrency_over_replicas_with_a_dead_one(service_stack):
    url = service_stack.urls["generator"]
    dead = f"http://127.0.0.1:{free_port()}"
    settings = service_stack.client_settings(backoff_initial_s=0.01, max_attempts=3)
    async with AsyncGeneratorClient(settings, urls=[url, dead, url], max_concurrency=4) as gen:
        results = await asyncio.gather(*(gen.generate(prompt=PROMPT, width=64, height=64, seed=i) for i in range(12)))
    assert [r.images[0].seed for r in results] == list(range(12))

    async with AsyncFashionEditClient(settings, max_concurrency=2) as bundle:
        assert all((await bundle.ready()).values())
        infos = await bundle.info()
        assert infos["editor"].service == "editor"
