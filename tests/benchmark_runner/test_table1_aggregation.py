"""Table 1 aggregation against hand-computed values from fixed per-item scores."""

from __future__ import annotations

import pytest

from fashionedit.client.benchmark import csv_table, markdown_table, table_rows
from fashionedit.contracts import BenchmarkReport, PairScore, RoundRecord, RunMetadata
from fashionedit.contracts.benchmark import CLIP_UNAVAILABLE_TEXT


def rec(
    item: str, family: str, rnd: int, cosine: float | None, psnr: float | None, *, status: str = "ok", clip_status: str = "ok"
) -> RoundRecord:
    if status == "failed":
        return RoundRecord(item_id=item, family=family, round=rnd, status="failed", error="boom")
    scores = PairScore(id=item, clip=None if cosine is None else cosine * 100, clip_cosine=cosine, psnr=psnr)
    return RoundRecord(item_id=item, family=family, round=rnd, scores=scores, clip_status=clip_status)


def test_rows_match_hand_computed_means():
    records = [
        # SD3 on three items: cosines 0.80, 0.92, 0.95 -> CLIP 89.00, CLIP* 2/3 = 66.67 %; PSNR (9+10+11)/3 = 10.
        rec("a", "SD3", 0, 0.80, 9.0),
        rec("b", "SD3", 0, 0.92, 10.0),
        rec("c", "SD3", 0, 0.95, 11.0),
        # Vanilla round 1 on two val items: 0.90 (not > 0.90) and 0.91 -> CLIP 90.50, CLIP* 50 %, PSNR 8.5.
        rec("a", "Vanilla", 1, 0.90, 8.0),
        rec("b", "Vanilla", 1, 0.91, 9.0),
        # Vanilla round 2: item b failed -> only a: 0.85, PSNR 7; one failed.
        rec("a", "Vanilla", 2, 0.85, 7.0),
        rec("b", "Vanilla", 2, None, None, status="failed"),
        # BUG round 1: 0.93 and 0.97 -> 95.00, 100 %, PSNR 12.5; an older failed attempt of a is superseded.
        rec("a", "BUG", 1, None, None, status="failed"),
        rec("a", "BUG", 1, 0.93, 12.0),
        rec("b", "BUG", 1, 0.97, 13.0),
    ]
    rows = {r.method: r for r in table_rows(records, {"SD3": 3, "Vanilla": 2, "BUG": 2}, rounds=2, clip_threshold=0.90)}
    assert list(rows) == ["SD3", "Vanilla(1)", "Vanilla(2)", "BUG(1)", "BUG(2)"]
    assert (
        rows["SD3"].clip == pytest.approx(89.0)
        and rows["SD3"].clip_star == pytest.approx(200 / 3)
        and rows["SD3"].psnr == pytest.approx(10.0)
    )
    assert rows["SD3"].split == "train+val" and rows["SD3"].prompt == "text"
    v1 = rows["Vanilla(1)"]
    assert (v1.clip, v1.clip_star, v1.psnr, v1.n, v1.n_failed) == (
        pytest.approx(90.5),
        pytest.approx(50.0),
        pytest.approx(8.5),
        2,
        0,
    )
    v2 = rows["Vanilla(2)"]
    assert (v2.clip, v2.clip_star, v2.psnr, v2.n, v2.n_failed, v2.n_expected) == (
        pytest.approx(85.0),
        0.0,
        pytest.approx(7.0),
        1,
        1,
        2,
    )
    b1 = rows["BUG(1)"]
    assert (b1.clip, b1.clip_star, b1.psnr, b1.n, b1.n_failed, b1.prompt) == (
        pytest.approx(95.0),
        100.0,
        pytest.approx(12.5),
        2,
        0,
        "text+image",
    )
    assert rows["BUG(2)"].n == 0 and rows["BUG(2)"].clip is None and rows["BUG(2)"].clip_status == "no_data"


def test_clip_unavailable_is_never_a_number():
    records = [
        rec("a", "BUG", 1, None, 12.0, clip_status="unavailable"),
        rec("b", "BUG", 1, None, 14.0, clip_status="unavailable"),
        # A random-weights cosine must not reach the table either.
        rec("a", "Vanilla", 1, 0.99, 6.0, clip_status="random_weights"),
    ]
    rows = {r.method: r for r in table_rows(records, {"Vanilla": 1, "BUG": 2}, rounds=1, clip_threshold=0.9)}
    assert rows["BUG(1)"].clip is None and rows["BUG(1)"].clip_star is None and rows["BUG(1)"].clip_status == "unavailable"
    assert rows["BUG(1)"].psnr == pytest.approx(13.0)
    assert rows["Vanilla(1)"].clip is None and rows["Vanilla(1)"].clip_status == "random_weights"
    meta = RunMetadata(run_id="x", dataset="d", seed=0, concurrency=1, clip_threshold=0.9, offline=True)
    report = BenchmarkReport(metadata=meta, rows=list(rows.values()), label="offline profile", clip_note=CLIP_UNAVAILABLE_TEXT)
    md = markdown_table(report)
    assert "offline profile" in md and CLIP_UNAVAILABLE_TEXT in md and "99" not in md
    lines = csv_table(report).splitlines()
    assert lines[0].startswith("method,prompt,split,n,n_failed")
    bug = next(line for line in lines if line.startswith("BUG(1)"))
    assert CLIP_UNAVAILABLE_TEXT in bug and "13.00" in bug and "offline profile" in bug


def test_clip_star_is_a_percent_of_the_expected_items_failed_ones_not_above():
    # The paper's CLIP* is a percent of the val images: 4 expected, 2 scored above 0.90, 1 failed, 1 never ran.
    records = [
        rec("a", "BUG", 1, 0.95, 10.0),
        rec("b", "BUG", 1, 0.96, 12.0),
        rec("c", "BUG", 1, None, None, status="failed"),
    ]
    [row] = table_rows(records, {"BUG": 4}, rounds=1, clip_threshold=0.90)
    assert row.clip_star == pytest.approx(50.0)  # 2 of 4, not 2 of the 2 that finished
    assert row.clip == pytest.approx(95.5) and row.psnr == pytest.approx(11.0)  # means over the scored items
    assert (row.n, row.n_failed, row.n_expected) == (2, 1, 4)
    assert "CLIP* is over all 4 expected items: 2 without a score (1 failed, 1 not run) count as not above 0.9" in row.note
    meta = RunMetadata(run_id="x", dataset="d", seed=0, concurrency=1, clip_threshold=0.9, offline=False)
    md = markdown_table(BenchmarkReport(metadata=meta, rows=[row], label="test"))
    assert "| 2/4 | 1 | 95.50 | 50.00 |" in md and "BUG(1): CLIP* is over all 4 expected items" in md
    # Every item finished: the same percent as over the finished items, and no note.
    [full] = table_rows(records[:2] + [rec("c", "BUG", 1, 0.5, 9.0)], {"BUG": 3}, rounds=1, clip_threshold=0.90)
    assert full.clip_star == pytest.approx(200 / 3) and full.note is None
