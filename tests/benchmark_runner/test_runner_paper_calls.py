"""The runner's default BUG call is the paper's: Responses API, [design, reference crop], and no mask."""

from __future__ import annotations

import asyncio

import pytest

from fashionedit.client.benchmark import RunConfig
from fashionedit.client.benchmark.runner import BenchmarkRunner, load_records
from fashionedit.client.dataset import BuildConfig, DatasetBuilder, load_dataset
from fashionedit.client.local import TARGETS
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT
from fashionedit.flats import write_synthetic_dataset
from tests.support.fixtures import openai_fake, openai_server  # noqa: F401
from tests.support.servers import BentoServer

pytestmark = pytest.mark.integration

SIZE = 64


@pytest.fixture(scope="module")
def openai_editor(openai_server, tmp_path_factory):
    """An editor service on the paper's backend (openai-responses), pointed at the local OpenAI-protocol server."""
    env = {
        "OMP_NUM_THREADS": "1",
        "FASHIONEDIT_EDITOR_BACKEND": "openai-responses",
        "FASHIONEDIT_EDITOR_OPENAI_BASE_URL": openai_server.base_url,
        "FASHIONEDIT_EDITOR_OPENAI_API_KEY": openai_server.api_key,
        "FASHIONEDIT_EDITOR_OPENAI_MAX_RETRIES": "0",
    }
    with BentoServer(
        TARGETS["editor"], env=env, log_path=tmp_path_factory.mktemp("editor") / "editor.log", startup_timeout=240
    ) as server:
        yield server


@pytest.fixture(scope="module")
def small_dataset(service_stack, tmp_path_factory):
    root = tmp_path_factory.mktemp("paper-calls")
    write_synthetic_dataset(root / "src", 4, seed=5, image_size=(SIZE, SIZE))
    config = BuildConfig(
        source=root / "src",
        out=root / "ds",
        selection="all",
        drafts_from=root / "src/drafts",
        differences_from=root / "src/ground_truth.jsonl",
        image_size=SIZE,
        val_size=2,
        require_k=False,
        concurrency=2,
    )
    asyncio.run(DatasetBuilder(config, service_stack.client_settings()).run())
    return root / "ds"


@pytest.mark.parametrize("box, masked", [(None, False), ("bug", True)])
async def test_default_bug_round_sends_no_mask(service_stack, openai_editor, openai_fake, small_dataset, tmp_path, box, masked):
    settings = service_stack.client_settings(editor_url=[openai_editor.url])
    options = {} if box is None else {"box": box}
    config = RunConfig(
        dataset=small_dataset, out=tmp_path / "run", methods=["Vanilla", "BUG"], rounds=1, concurrency=2, **options
    )
    assert box is not None or config.box == "never"
    runner = BenchmarkRunner(config, settings)
    await runner.run()
    records = load_records(tmp_path / "run")
    assert records and all(r.status == "ok" for r in records.values()), [r.error for r in records.values()]
    sent = openai_fake.requests("responses")
    val = {s.id: s for s in load_dataset(small_dataset).split("val")}
    bug = [r for r in sent if r["prompt"].startswith(BUG_PROMPT)]
    vanilla = [r for r in sent if not r["prompt"].startswith(BUG_PROMPT)]
    assert len(bug) == len(vanilla) == len(val) == 2
    for request in bug:
        assert len(request["images"]) == 2  # the current design, then the reference crop
        assert (request.get("mask") is not None) is masked  # the paper's calls had no input_image_mask
        assert ("input_image_mask" in request["options"]) is masked
    for request in vanilla:
        assert request["prompt"].startswith(VANILLA_PROMPT) and len(request["images"]) == 1 and request.get("mask") is None
    descriptions = sorted(d.description for s in val.values() for d in s.differences if d.index == 1)
    assert sorted(r["prompt"].removeprefix(BUG_PROMPT) for r in bug) == descriptions  # unchanged, no separator
