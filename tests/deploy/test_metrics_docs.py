"""docs/deploy.md's metrics table says what the shared metrics module defines: every metric, its type and labels."""

from __future__ import annotations

import re

from fashionedit.services.common import metrics

from .tools import REPO


def test_the_metrics_table_matches_the_module() -> None:
    text = (REPO / "docs" / "deploy.md").read_text()
    section = text.split("## Metrics and autoscaling", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `(fashionedit_[a-z_]+)` \| ([a-z]+)[^|]* \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2), set(re.findall(r"`([a-z_]+)`", match.group(3))))
    expected = {}
    for spec in metrics.SPECS.values():
        shown = spec.name + "_total" if spec.kind == "counter" else spec.name
        expected[shown] = (spec.kind, set(spec.labels))
    assert rows == expected
