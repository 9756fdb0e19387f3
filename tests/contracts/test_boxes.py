"""Box2D and the repairs that turn a model's boxes into valid ones, each reported."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from fashionedit.contracts import Box2D, BoxConvention, RepairCode, convert_to_box2d_values, repair_box


class Holder(BaseModel):
    box: Box2D


def codes(result) -> list[RepairCode]:
    return [r.code for r in result.repairs]


def test_valid_box_round_trips_as_a_plain_list() -> None:
    holder = Holder(box=[100, 250, 600, 750])
    assert holder.model_dump(mode="json") == {"box": [100.0, 250.0, 600.0, 750.0]}
    assert (holder.box.ymin, holder.box.xmin, holder.box.ymax, holder.box.xmax) == (100, 250, 600, 750)


@pytest.mark.parametrize(
    "values,match",
    [
        ([0, 0, 1001, 10], "outside 0-1000"),
        ([-1, 0, 10, 10], "outside 0-1000"),
        ([10, 10, 10, 20], "zero or negative area"),
        ([50, 10, 20, 20], "zero or negative area"),
        ([0, 0, float("nan"), 10], "outside 0-1000"),
    ],
)
def test_invalid_boxes_are_refused(values, match) -> None:
    with pytest.raises(ValidationError, match=match):
        Holder(box=values)


def test_wrong_length_is_refused() -> None:
    with pytest.raises(ValidationError):
        Holder(box=[1, 2, 3])


def test_to_pixels_follows_the_paper_and_never_empties() -> None:
    box = Box2D((100, 250, 600, 750))
    assert tuple(box.to_pixels(750, 1101)) == (187, 110, 563, 661)
    thin = Box2D((500, 500, 500.1, 500.1))
    px = thin.to_pixels(64, 64)
    assert px.width >= 1 and px.height >= 1


def test_pixels_round_trip() -> None:
    box = Box2D.from_pixels((75, 110, 375, 550), 750, 1100)
    assert box.to_list() == pytest.approx([100, 100, 500, 500])
    assert tuple(box.to_pixels(750, 1100)) == (75, 110, 375, 550)


@given(
    st.integers(1, 2000),
    st.integers(1, 2000),
    st.floats(0, 999, allow_nan=False),
    st.floats(0, 999, allow_nan=False),
    st.floats(1, 1000, allow_nan=False),
    st.floats(1, 1000, allow_nan=False),
)
def test_pixel_box_always_covers_the_box_and_stays_inside(width, height, y0, x0, dy, dx) -> None:
    box = Box2D((y0, x0, min(y0 + dy, 1000), min(x0 + dx, 1000)))
    px = box.to_pixels(width, height)
    assert 0 <= px.x0 < px.x1 <= width and 0 <= px.y0 < px.y1 <= height
    assert px.x0 <= box.xmin / 1000 * width + 1e-9 and px.x1 >= box.xmax / 1000 * width - 1e-9


def test_iou_and_contains() -> None:
    a, b = Box2D((0, 0, 100, 100)), Box2D((50, 50, 150, 150))
    assert a.iou(a) == 1.0
    assert a.iou(b) == pytest.approx(2500 / 17500)
    assert Box2D((0, 0, 200, 200)).contains(a) and not a.contains(b)


@pytest.mark.parametrize(
    "convention,values,size,expected",
    [
        (BoxConvention.YX_1000, [1, 2, 3, 4], None, [1, 2, 3, 4]),
        (BoxConvention.XY_1000, [2, 1, 4, 3], None, [1, 2, 3, 4]),
        (BoxConvention.XY_PIXELS, [100, 50, 300, 150], (1000, 500), [100, 100, 300, 300]),
        (BoxConvention.YX_PIXELS, [50, 100, 150, 300], (1000, 500), [100, 100, 300, 300]),
        (BoxConvention.XY_UNIT, [0.1, 0.2, 0.3, 0.4], None, [200, 100, 400, 300]),
        (BoxConvention.YX_UNIT, [0.1, 0.2, 0.3, 0.4], None, [100, 200, 300, 400]),
    ],
)
def test_conventions_convert_to_box2d(convention, values, size, expected) -> None:
    assert convert_to_box2d_values(values, convention, image_size=size) == pytest.approx(expected)


def test_pixel_convention_needs_a_size() -> None:
    with pytest.raises(ValueError, match="image size"):
        convert_to_box2d_values([1, 2, 3, 4], BoxConvention.XY_PIXELS)


def test_repair_clean_box_reports_nothing() -> None:
    result = repair_box([100, 250, 600, 750])
    assert result.box == Box2D((100, 250, 600, 750)) and result.repairs == []


def test_repair_reversed_corners() -> None:
    result = repair_box([600, 750, 100, 250], item=2)
    assert result.box == Box2D((100, 250, 600, 750))
    assert codes(result) == [RepairCode.REORDERED] and result.repairs[0].item == 2


def test_repair_clamps_out_of_range() -> None:
    result = repair_box([-20, 100, 1040, 900])
    assert result.box == Box2D((0, 100, 1000, 900))
    assert codes(result) == [RepairCode.CLAMPED]


def test_repair_drops_zero_area() -> None:
    result = repair_box([300, 300, 300, 500])
    assert result.box is None and codes(result) == [RepairCode.DROPPED_ZERO_AREA]


def test_repair_reads_pixels_given_as_0_1000_when_the_size_is_known() -> None:
    result = repair_box([220, 150, 880, 1400], image_size=(1500, 2200))
    assert result.box is not None and codes(result) == [RepairCode.CONVERTED]
    assert result.box.to_list() == pytest.approx([100, 100, 400, 1400 / 1500 * 1000])


def test_repair_converts_and_reports_qwen_boxes() -> None:
    result = repair_box([250, 0, 750, 600], BoxConvention.XY_1000)
    assert result.box == Box2D((0, 250, 600, 750)) and codes(result) == [RepairCode.CONVERTED]


@pytest.mark.parametrize("bad", [["a", 1, 2, 3], [1, 2, 3], None, [1, 2, float("inf"), 4]])
def test_repair_drops_unreadable_boxes(bad) -> None:
    result = repair_box(bad)
    assert result.box is None and codes(result) == [RepairCode.DROPPED_INVALID]


def test_several_repairs_are_all_reported_in_order() -> None:
    result = repair_box([1100, 900, -50, 100])
    assert codes(result) == [RepairCode.REORDERED, RepairCode.CLAMPED]
    assert result.box == Box2D((0, 100, 1000, 900))
