"""openai-chat boxes a little over 1000 are clamped, not read as pixels; 0-1 fractions are read as fractions."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import AnalyzeRequest, RepairCode
from fashionedit.services.analyzer.parsing import parse_differences
from fashionedit.services.analyzer.serving import AnalyzerServing

from .helpers import payload, settings_for

pytestmark = pytest.mark.integration

SIZE = (2000, 1500)  # (width, height): large enough that a pixel reading of 1004 would land elsewhere


@pytest.fixture(scope="module")
def original() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def serving(openai_server):
    serving = AnalyzerServing(settings_for(openai_server))
    yield serving
    serving.close()


def analyze(openai_fake, serving, original, box):
    openai_fake.script("chat", {"content": f'{{"differences": [{{"description": "a pocket", "box_2d": {box}}}]}}'})
    request = AnalyzeRequest(
        original=payload(original), generated=payload(Image.new("RGB", (512, 512))), k=3, backend="openai-chat"
    )
    return serving.analyze(request)


def crop_of(original: Image.Image, box_2d: list[float]) -> np.ndarray:
    ymin, xmin, ymax, xmax = box_2d
    w, h = original.size
    return np.asarray(
        original.crop((round(xmin / 1000 * w), round(ymin / 1000 * h), round(xmax / 1000 * w), round(ymax / 1000 * h)))
    )


def test_slight_overshoot_is_clamped_and_the_crop_comes_from_that_region(openai_fake, serving, original) -> None:
    response = analyze(openai_fake, serving, original, [620, 550, 1004, 1001])
    [difference] = response.differences
    assert difference.box_2d.to_list() == [620, 550, 1000, 1000]  # the bottom-right region, not pixels of 2000x1500
    assert [r.code for r in response.repairs] == [RepairCode.CLAMPED]
    assert "not read as pixels" in response.repairs[0].message
    crop = np.asarray(difference.crop.to_pil())
    assert crop.shape == (570, 900, 3) and np.array_equal(crop, crop_of(original, [620, 550, 1000, 1000]))
    assert response.attempts == 1


def test_fractions_are_read_as_fractions_not_dropped(openai_fake, serving, original) -> None:
    response = analyze(openai_fake, serving, original, [0.1, 0.2, 0.3, 0.4])
    [difference] = response.differences
    assert difference.box_2d.to_list() == pytest.approx([100, 200, 300, 400])
    assert [r.code for r in response.repairs] == [RepairCode.CONVERTED] and "fractions" in response.repairs[0].message
    assert np.array_equal(np.asarray(difference.crop.to_pil()), crop_of(original, [100, 200, 300, 400]))
    assert response.attempts == 1 and len(openai_fake.requests("chat")) == 1  # no re-ask, no 502


def test_values_well_over_1000_are_still_pixels() -> None:
    result = parse_differences('{"differences": [{"description": "A", "box_2d": [300, 500, 1200, 1800]}]}', k=3, image_size=SIZE)
    assert result.differences[0].box.to_list() == pytest.approx([200, 250, 800, 900])
    assert [r.code for r in result.repairs] == [RepairCode.CONVERTED]
