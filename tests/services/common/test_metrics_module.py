"""The shared metrics module: one definition per metric, created once per process, never failing a request."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from fashionedit.services.common import metrics
from tests.support.metrics import local


def test_each_metric_is_created_once_even_if_the_module_is_loaded_twice() -> None:
    first = metrics.metric(metrics.OVERLOADED)
    assert metrics.metric(metrics.OVERLOADED) is first
    # A second copy of the module (as a test run that imports it under two names would make): no duplicate registration.
    spec = importlib.util.spec_from_file_location("fashionedit_metrics_copy", metrics.__file__)
    copy = importlib.util.module_from_spec(spec)
    sys.modules["fashionedit_metrics_copy"] = copy
    try:
        spec.loader.exec_module(copy)
        assert copy.metric(copy.OVERLOADED) is first
        before = local(metrics.OVERLOADED + "_total", service_name="module-test", reason=metrics.QUEUE_FULL)
        copy.count_overloaded("module-test", copy.QUEUE_FULL)
        metrics.count_overloaded("module-test", metrics.QUEUE_FULL)
        assert local(metrics.OVERLOADED + "_total", service_name="module-test", reason=metrics.QUEUE_FULL) == before + 2
    finally:
        del sys.modules["fashionedit_metrics_copy"]


def test_reasons_are_a_fixed_set() -> None:
    with pytest.raises(ValueError, match="unknown overload reason"):
        metrics.count_overloaded("module-test", "/v1/generate?id=123")


def test_gauges_follow_what_is_set() -> None:
    metrics.set_in_flight("module-test", 3)
    metrics.set_in_flight_limit("module-test", 8)
    assert local(metrics.REQUESTS_IN_FLIGHT, service_name="module-test") == 3
    assert local(metrics.REQUESTS_IN_FLIGHT_LIMIT, service_name="module-test") == 8
    metrics.set_in_flight("module-test", 0)
    assert local(metrics.REQUESTS_IN_FLIGHT, service_name="module-test") == 0


def test_every_metric_is_specified_with_its_scraped_names() -> None:
    assert set(metrics.SPECS) == {
        metrics.REQUESTS_IN_FLIGHT,
        metrics.REQUESTS_IN_FLIGHT_LIMIT,
        metrics.OVERLOADED,
        metrics.BATCH_QUEUE,
        metrics.BATCH_SIZE,
        metrics.BATCH_REJECTED,
    }
    assert metrics.SPECS[metrics.OVERLOADED].scraped_names == ("fashionedit_overloaded_total",)
    assert metrics.SPECS[metrics.BATCH_SIZE].scraped_names[-1] == "fashionedit_batch_size_images_count"
    assert all(name.startswith("fashionedit_") for name in metrics.SPECS)
    assert all(set(spec.labels) <= {metrics.SERVICE_LABEL, "reason"} for spec in metrics.SPECS.values())


def test_a_metric_that_cannot_be_created_is_left_out_with_one_warning(monkeypatch, caplog) -> None:
    broken = metrics.MetricSpec("fashionedit_broken", "histogram", "'le' is the histogram's own label", ("le",))
    monkeypatch.setitem(metrics.SPECS, broken.name, broken)
    with caplog.at_level("WARNING", logger="fashionedit.service"):
        metrics.metric(broken.name).labels("module-test").inc()  # does nothing, raises nothing
        metrics.metric(broken.name).labels("module-test").inc()
    warnings = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"metric {broken.name} is not exported")]
    assert len(warnings) == 1, warnings
    monkeypatch.delitem(metrics._created, broken.name)
