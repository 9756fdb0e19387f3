"""The classical backend on fashionedit.flats synthetic data (originals as JPEG, drafts with planted differences).

Floors, not the headline figures: benchmarks/analyzer_classical_eval.py measures 100 samples
(docs/benchmarks.md, "Analyzer"). Here 16 samples keep the run short.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.analyzer_classical_eval import match, names_colour
from fashionedit.contracts import AnalyzeRequest, Box2D, ImagePayload
from fashionedit.services.analyzer.serving import AnalyzerServing
from fashionedit.services.analyzer.settings import AnalyzerSettings

from .helpers import assert_crop_shows_box

synthetic = pytest.importorskip("fashionedit.flats.synthetic")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    data = tmp_path_factory.mktemp("flats")
    synthetic.write_synthetic_dataset(data, 16, 0)
    serving = AnalyzerServing(AnalyzerSettings(backend="classical", extra_backends=[]))
    out = []
    for line in (data / "ground_truth.jsonl").read_text().splitlines():
        sample = json.loads(line)
        original = ImagePayload.from_path(data / sample["image"])
        response = serving.analyze(
            AnalyzeRequest(original=original, generated=ImagePayload.from_path(data / sample["draft"]), k=3)
        )
        out.append((sample, original, response))
    return out


def test_single_planted_differences_are_found(results) -> None:
    single = [(s, r) for s, _, r in results if len(s["differences"]) == 1]
    assert len(single) >= 4
    found = sum(bool(match([Box2D(s["differences"][0]["box_2d"])], [d.box_2d for d in r.differences], 0.5)) for s, r in single)
    assert found / len(single) >= 0.85  # here 8/8; 100 samples: 32/33 (seed 0), 28/30 (seed 1)


def test_found_colour_differences_name_the_original_colour(results) -> None:
    named = found = 0
    for sample, _, response in results:
        truth = [Box2D(d["box_2d"]) for d in sample["differences"]]
        for i, j, _ in match(truth, [d.box_2d for d in response.differences], 0.5):
            planted = sample["differences"][i]
            if planted["kind"] == "color":
                found += 1
                named += names_colour(response.differences[j].description, planted["original_value"])
    assert found >= 3 and named / found >= 0.9  # here 3/3; 100 samples: 31/33, 30/31


def test_overall_recall_and_precision_floors(results) -> None:
    planted = predicted = matched = 0
    for sample, _, response in results:
        truth = [Box2D(d["box_2d"]) for d in sample["differences"]]
        boxes = [d.box_2d for d in response.differences]
        pairs = match(truth, boxes, 0.5)
        planted, predicted, matched = planted + len(truth), predicted + len(boxes), matched + len(pairs)
    # Here 23/27 = 0.85 and 0.72; 100 samples: recall 0.79 / 0.76, precision 0.76 / 0.72 (seeds 0 / 1).
    assert matched / planted >= 0.8 and matched / predicted >= 0.68


def test_crops_are_the_originals_pixels_around_the_box(results) -> None:
    for _, original, response in results[:4]:
        for difference in response.differences:
            assert_crop_shows_box(original.to_pil(), difference)
