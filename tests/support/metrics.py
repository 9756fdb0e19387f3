"""Read the services' Prometheus metrics: in this process (the default registry) or scraped from ``/metrics``."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def local(name: str, **labels: str) -> float:
    """A sample of this process's registry (0 when the series does not exist yet)."""
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def scrape(url: str, *, headers: dict[str, str] | None = None) -> Samples:
    """Every sample ``GET <url>/metrics`` answers, keyed by (sample name, labels)."""
    response = httpx.get(url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample with exactly these labels, or None when the scrape has no such series."""
    return samples.get((name, frozenset(labels.items())))
