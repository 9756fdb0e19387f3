"""The dataset builder end to end through real service processes (offline profile), on synthetic data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from fashionedit.client.dataset import BuildConfig, DatasetBuilder, load_dataset
from fashionedit.client.dataset.builder import draft_seed
from fashionedit.flats import write_synthetic_dataset
from tests.support.locks import folder_held_by_another_process

pytestmark = pytest.mark.integration

N = 8
SIZE = 128


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("deepfashion")
    write_synthetic_dataset(root, N, seed=3, image_size=(SIZE, SIZE))
    return root


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


async def test_build_with_generated_drafts_then_resume(service_stack, source, tmp_path):
    settings = service_stack.client_settings()
    config = BuildConfig(
        source=source,
        out=tmp_path / "ds",
        selection="top_n",
        top_n=6,
        rank_by="psnr",
        draft_size=SIZE,
        image_size=64,
        require_k=False,
        val_size=2,
        split_seed=5,
        concurrency=4,
    )
    result = await DatasetBuilder(config, settings).run()
    dataset = load_dataset(tmp_path / "ds")
    m = dataset.manifest
    assert m.offline and m.generator.backend == "flats" and m.analyzer.backend == "classical"
    assert (
        m.selection.method == "top_n" and m.selection.candidates == N and m.selection.kept == 6 and m.selection.rank_by == "psnr"
    )
    assert (m.split.train, m.split.val, m.split.seed) == (4, 2, 5) and m.num_samples == len(dataset.samples) == 6
    assert m.drafts["steps"] == 28 and m.drafts["guidance"] == 7.0 and m.drafts["negative_prompt"] == ""
    # The kept six are the six best drafts by PSNR, in sorted order.
    scores = {json.loads(line)["id"]: json.loads(line)["psnr"] for line in _lines(tmp_path / "ds/.work/scores.jsonl")}
    best = sorted(sorted(scores, key=lambda i: -scores[i])[:6])
    assert [s.id for s in dataset.samples] == best
    captions = json.loads((source / "captions.json").read_text())
    for sample in dataset.samples:
        assert sample.caption == captions[f"{sample.id}.jpg"]
        assert sample.draft_seed == draft_seed(0, sample.id) and sample.draft_psnr == pytest.approx(scores[sample.id])
        assert Image.open(dataset.path(sample.original)).size == (64, 64) == Image.open(dataset.path(sample.draft)).size
        assert "fashionedit:garment" in Image.open(dataset.path(sample.draft)).text  # the flat keeps its attributes
        assert [d.index for d in sample.differences] == list(range(1, len(sample.differences) + 1))
        for difference in sample.differences:
            assert dataset.path(difference.crop).is_file()
    assert not result.failed
    # Rerun with the same folder: every stage is finished, nothing is asked of the services again.
    logs = {name: _lines(tmp_path / "ds/.work" / name) for name in ("drafts.jsonl", "scores.jsonl", "analysis.jsonl")}
    torn = tmp_path / "ds" / "drafts" / f".{best[0]}.png.k9x2.tmp"  # what a kill between write and rename leaves
    torn.write_bytes(b"half a png")
    again = await DatasetBuilder(config, settings).run()
    assert not torn.exists()
    assert {name: _lines(tmp_path / "ds/.work" / name) for name in logs} == logs
    assert again.manifest.split == m.split and [s.id for s in load_dataset(tmp_path / "ds").samples] == best
    # Other content settings in the same folder are refused rather than mixed.
    with pytest.raises(ValueError, match="other settings"):
        await DatasetBuilder(config.model_copy(update={"image_size": 32}), settings).run()


async def test_select_from_a_list_in_captions_top_format(service_stack, source, tmp_path):
    captions = sorted(json.loads((source / "captions.json").read_text()))
    stems = [name[:-4] for name in captions]
    chosen = stems[1:5]
    listing = {f"{stem}.png": f"{88 + i / 10:.4f}" for i, stem in enumerate(chosen)}
    listing["MEN-Denim-id_09999999-01_1_front.png"] = "90.1234"  # not in the source folder
    path = tmp_path / "captions_top.json"
    path.write_text(json.dumps(listing))
    config = BuildConfig(
        source=source,
        out=tmp_path / "ds",
        selection="list",
        selection_list=path,
        drafts_from=source / "drafts",
        differences_from=source / "ground_truth.jsonl",
        image_size=SIZE,
        require_k=False,
        concurrency=4,
    )
    await DatasetBuilder(config, service_stack.client_settings()).run()
    dataset = load_dataset(tmp_path / "ds")
    sel = dataset.manifest.selection
    assert (sel.method, sel.list_entries, sel.list_missing, sel.kept, sel.list_path) == ("list", 5, 1, 4, "captions_top.json")
    assert [s.id for s in dataset.samples] == chosen
    assert [s.published_clip for s in dataset.samples] == [88.0, 88.1, 88.2, 88.3]
    assert dataset.manifest.split.val == 1 and dataset.manifest.generator is None  # 4 samples: the proportional rule gives 1
    truth = {json.loads(line)["id"]: json.loads(line) for line in (source / "ground_truth.jsonl").read_text().splitlines()}
    for sample in dataset.samples:
        planted = truth[sample.id]["differences"]
        assert [d.description for d in sample.differences] == [p["description"] for p in planted]
        for difference, p in zip(sample.differences, planted):
            assert difference.box_2d.to_list() == pytest.approx(p["box_2d"])  # square images: boxes unchanged
        crop = Image.open(dataset.path(sample.differences[0].crop))
        box = sample.differences[0].box_2d.to_pixels(SIZE, SIZE)
        assert crop.size == (box.width, box.height)


async def test_top_n_by_clip_without_clip_weights_says_what_to_do(service_stack, source, tmp_path):
    config = BuildConfig(
        source=source, out=tmp_path / "ds", top_n=4, drafts_from=source / "drafts", image_size=SIZE, concurrency=4
    )
    with pytest.raises(ValueError, match="no CLIP score.*--rank-by psnr"):
        await DatasetBuilder(config, service_stack.client_settings()).run()


async def test_a_list_keeps_its_short_items_by_default(service_stack, source, tmp_path):
    """With a published list the split is never shrunk silently: items with fewer than k differences stay."""
    stems = [name[:-4] for name in sorted(json.loads((source / "captions.json").read_text()))]
    path = tmp_path / "captions_top.json"
    path.write_text(json.dumps({f"{stem}.png": "88.0" for stem in stems}))
    truth = {json.loads(line)["id"]: len(json.loads(line)["differences"]) for line in _lines(source / "ground_truth.jsonl")}
    assert any(n < 3 for n in truth.values())  # the synthetic set plants 1-3 differences
    config = BuildConfig(
        source=source,
        out=tmp_path / "ds",
        selection="list",
        selection_list=path,
        drafts_from=source / "drafts",
        differences_from=source / "ground_truth.jsonl",
        image_size=SIZE,
        val_size=2,
        concurrency=4,
    )
    await DatasetBuilder(config, service_stack.client_settings()).run()
    m = load_dataset(tmp_path / "ds").manifest
    assert m.num_samples == N and (m.split.train, m.split.val) == (N - 2, 2) and not m.selection.dropped
    assert f"{sum(1 for n in truth.values() if n < 3)} samples kept with fewer than 3 differences" in m.split.rule
    # The same build with short items dropped says so in the split's rule.
    dropped = await DatasetBuilder(
        config.model_copy(update={"out": tmp_path / "ds2", "require_k": True}), service_stack.client_settings()
    ).run()
    assert dropped.manifest.selection.dropped == {"fewer_than_3_differences": sum(1 for n in truth.values() if n < 3)}
    assert "left out" in dropped.manifest.split.rule


def test_a_second_build_into_a_folder_in_use_stops_at_once(service_stack, source, tmp_path):
    out = tmp_path / "ds"
    with folder_held_by_another_process(out) as holder:  # a build in progress
        env = {**os.environ, **service_stack.client_env(), "HF_HUB_OFFLINE": "1", "COLUMNS": "400"}
        argv = [
            sys.executable,
            "-m",
            "fashionedit.client.cli",
            "dataset",
            "build",
            str(source),
            "-o",
            str(out),
            "--select",
            "all",
            "--no-progress",
        ]
        result = subprocess.run(argv, env=env, timeout=120, capture_output=True, text=True)
    assert result.returncode == 1
    assert f"in use: dataset build {out} is being changed by another fashionedit process (pid {holder.pid})" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".lock"]
