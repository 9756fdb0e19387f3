"""The published list keeps the paper's 10,546/1,000 split; nothing is dropped or re-drawn silently."""

from __future__ import annotations

from fashionedit.client.dataset.builder import plan_split
from fashionedit.contracts.dataset import PAPER_KEPT, PAPER_VAL

IDS = [f"WOMEN-Dresses-id_{i:08d}-01_1_front" for i in range(PAPER_KEPT)]
# 50 items for which the analyzer found only two differences (the case that gave 10,500/996 before).
COUNTS = {item: (2 if n % 231 == 0 else 3) for n, item in enumerate(IDS)}


def test_short_items_kept_give_the_papers_split() -> None:
    assert sum(1 for c in COUNTS.values() if c < 3) == 50
    plan = plan_split(IDS, COUNTS, k=3, require_k=False, val_size=None, seed=0)
    assert (plan.info.train, plan.info.val) == (PAPER_KEPT - PAPER_VAL, PAPER_VAL) == (10_546, 1_000)
    assert len(plan.final_ids) == 11_546 and not plan.dropped
    assert sum(1 for s in plan.split.values() if s == "val") == 1_000
    assert "50 samples kept with fewer than 3 differences" in plan.info.rule


def test_dropping_short_items_never_redraws_the_split_and_says_so() -> None:
    kept = plan_split(IDS, COUNTS, k=3, require_k=False, val_size=None, seed=0)
    dropped = plan_split(IDS, COUNTS, k=3, require_k=True, val_size=None, seed=0)
    assert dropped.dropped == {"fewer_than_3_differences": 50}
    # Every remaining item keeps the split it had; the drops leave their splits short instead of re-drawing.
    assert all(kept.split[i] == s for i, s in dropped.split.items())
    short_val = sum(1 for i, c in COUNTS.items() if c < 3 and kept.split[i] == "val")
    assert (dropped.info.train, dropped.info.val) == (10_546 - (50 - short_val), 1_000 - short_val)
    assert "drawn over the 11546 selected (10546 train / 1000 val)" in dropped.info.rule
    assert f"{50 - short_val} train and {short_val} val samples were left out (50 fewer_than_3_differences)" in dropped.info.rule


def test_failed_analyses_are_reported_against_the_planned_split() -> None:
    counts = {i: c for i, c in COUNTS.items() if i not in IDS[:3]}
    plan = plan_split(IDS, counts, k=3, require_k=False, val_size=None, seed=0)
    assert plan.dropped == {"analysis_failed": 3} and len(plan.final_ids) == PAPER_KEPT - 3
    assert "left out (3 analysis_failed)" in plan.info.rule
