"""The LMM-answer reader: every variant maps to its boxes and reported repairs."""

from __future__ import annotations

import pytest

from fashionedit.contracts import BoxConvention, RepairCode
from fashionedit.services.analyzer.parsing import MISSING_DESCRIPTION, UnreadableOutput, parse_differences

from .variants import IMAGE_SIZE, READABLE, UNREADABLE, Variant, flat


def check(result, variant: Variant) -> None:
    assert len(result.differences) == len(variant.boxes)
    assert flat([d.box.to_list() for d in result.differences]) == pytest.approx(flat(variant.boxes))
    assert [r.code for r in result.repairs] == variant.repairs, [r.message for r in result.repairs]
    if variant.descriptions is not None:
        assert [d.description for d in result.differences] == variant.descriptions


def test_table_is_large_enough() -> None:
    assert len(READABLE) + len(UNREADABLE) >= 15


@pytest.mark.parametrize("variant", READABLE, ids=lambda v: v.name)
def test_readable_variants(variant: Variant) -> None:
    check(parse_differences(variant.text, k=variant.k, image_size=IMAGE_SIZE), variant)


@pytest.mark.parametrize("name,text", UNREADABLE, ids=[n for n, _ in UNREADABLE])
def test_unreadable_variants(name: str, text: str) -> None:
    with pytest.raises(UnreadableOutput) as info:
        parse_differences(text, k=3, image_size=IMAGE_SIZE)
    assert str(info.value)


def test_missing_description_gets_placeholder() -> None:
    result = parse_differences('[{"box_2d": [1, 2, 300, 400]}]', k=3)
    assert result.differences[0].description == MISSING_DESCRIPTION


def test_qwen25_pixels_of_resized_input() -> None:
    # Qwen2.5-VL: [x1, y1, x2, y2] in pixels of its smart-resized input (here 756x1092 for 750x1101).
    result = parse_differences(
        '```json\n[{"bbox_2d": [189, 273, 378, 546], "label": "collar"}]\n```',
        k=3,
        convention=BoxConvention.XY_PIXELS,
        image_size=(756, 1092),
    )
    assert result.differences[0].box.to_list() == pytest.approx([250.0, 250.0, 500.0, 500.0])
    assert RepairCode.CONVERTED in [r.code for r in result.repairs]
    assert result.differences[0].description == "collar"


def test_qwen3_xy_1000() -> None:
    result = parse_differences('[{"bbox_2d": [200, 100, 400, 300], "label": "x"}]', k=3, convention=BoxConvention.XY_1000)
    assert result.differences[0].box.to_list() == [100, 200, 300, 400]


def test_huge_answer_refused_before_parsing() -> None:
    with pytest.raises(UnreadableOutput):
        parse_differences("[" * 300_000, k=3)


def test_deeply_nested_literal_does_not_crash() -> None:
    with pytest.raises(UnreadableOutput):
        parse_differences("[" * 5000 + "]" * 5000, k=3)
