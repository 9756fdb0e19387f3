"""benchmarks/open_editors_gpu.py in its CPU mode (--tiny): it runs and reports what it measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_tiny_benchmark_reports_each_editor(tmp_path):
    out = tmp_path / "open-editors.json"
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "open_editors_gpu.py"), "--tiny", "--repeats", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["tiny"] and report["random_weights"] and report["machine"]["device"] == "cpu"
    assert set(report["editors"]) == {"qwen-edit", "flux-kontext"}
    for editor in report["editors"].values():
        assert editor["size"] == 64 and editor["steps"] == 2 and editor["parameters"] > 0
        for mode in ("vanilla_resident", "bug_resident"):
            assert editor[mode]["median_s"] > 0 and editor[mode]["process_peak_rss_gib"] > 0
        assert "needs a CUDA device" in editor["offload"]
    assert "random weights: timings only" in result.stdout
