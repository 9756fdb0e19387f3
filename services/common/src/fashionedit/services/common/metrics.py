"""The scaling and saturation metrics every service exports on BentoML's ``/metrics``.

One definition of each metric, for every service (and for the deployment: the Kubernetes autoscaler
and the prometheus-adapter rule name :data:`REQUESTS_IN_FLIGHT`; tests/deploy reads it from here):

* ``fashionedit_requests_in_flight`` (gauge; ``service_name``): API requests admitted and not yet answered.
* ``fashionedit_requests_in_flight_limit`` (gauge; ``service_name``): the admission limit (``MAX_CONCURRENCY``).
* ``fashionedit_overloaded_total`` (counter; ``service_name``, ``reason``): 503 ``overloaded`` replies.
* ``fashionedit_batch_queue_images`` (gauge; ``service_name``): images waiting for the model (generator, scorer).
* ``fashionedit_batch_size_images`` (histogram; ``service_name``): images per model call (generator, scorer).
* ``fashionedit_batch_rejected_images_total`` (counter; ``service_name``): images refused, the queue being full.

``reason`` is :data:`ADMISSION` (the worker already had ``max_concurrency`` requests in flight) or
:data:`QUEUE_FULL` (a batcher's queue was full). Labels are low-cardinality by design: a service name
and a fixed reason, never a request id or a path.

BentoML runs each worker as its own process and serves ``/metrics`` through prometheus_client's
multiprocess collector (``PROMETHEUS_MULTIPROC_DIR``, under ``BENTOML_HOME``). The gauges are
``livesum``: one series per pod, the sum over its live workers, which is what a per-pod autoscaling
target wants. ``bentoml.metrics`` is only a deprecated pass-through to prometheus_client in BentoML 1.4
(it says so itself), so this module uses prometheus_client the way that wrapper does: imported at first
use, in the worker, after BentoML has set the multiprocess directory. Each metric is created once per
process (however many times this module is imported) and a metric that cannot be created never fails
a request: it is logged once and left out.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("fashionedit.service")

REQUESTS_IN_FLIGHT = "fashionedit_requests_in_flight"
REQUESTS_IN_FLIGHT_LIMIT = "fashionedit_requests_in_flight_limit"
OVERLOADED = "fashionedit_overloaded"  # scraped as fashionedit_overloaded_total
BATCH_QUEUE = "fashionedit_batch_queue_images"
BATCH_SIZE = "fashionedit_batch_size_images"  # scraped as _bucket, _sum, _count
BATCH_REJECTED = "fashionedit_batch_rejected_images"  # scraped as fashionedit_batch_rejected_images_total

SERVICE_LABEL = "service_name"  # BentoML's own metrics use the same label; "service" is taken by Kubernetes targets
ADMISSION = "admission"
QUEUE_FULL = "queue_full"
REASONS = (ADMISSION, QUEUE_FULL)

# Images per model call: a generator batch is a few images, a CLIP forward up to 256.
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: str  # "gauge", "counter" or "histogram"
    documentation: str
    labels: tuple[str, ...] = (SERVICE_LABEL,)

    @property
    def scraped_names(self) -> tuple[str, ...]:
        """The sample names a scrape shows (what PromQL and the adapter rules use)."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


SPECS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(REQUESTS_IN_FLIGHT, "gauge", "API requests admitted and not yet answered (summed over the pod's workers)"),
        MetricSpec(REQUESTS_IN_FLIGHT_LIMIT, "gauge", "Requests in flight before 503 overloaded (MAX_CONCURRENCY x workers)"),
        MetricSpec(
            OVERLOADED,
            "counter",
            "503 overloaded replies, by reason: admission (too many in flight) or queue_full",
            (SERVICE_LABEL, "reason"),
        ),
        MetricSpec(BATCH_QUEUE, "gauge", "Images waiting for the model in the batcher's queue (summed over the pod's workers)"),
        MetricSpec(BATCH_SIZE, "histogram", "Images per model call (pipeline call or CLIP forward)"),
        MetricSpec(BATCH_REJECTED, "counter", "Images refused because the batcher's queue was full"),
    )
}

_lock = threading.Lock()
_created: dict[str, Any] = {}
_failed: set[str] = set()


class _Unavailable:
    """Stands in for a metric that could not be created: every operation does nothing."""

    def labels(self, *args: Any, **kwargs: Any) -> _Unavailable:
        return self

    def inc(self, amount: float = 1) -> None: ...

    def set(self, value: float) -> None: ...

    def observe(self, value: float) -> None: ...


def metric(name: str) -> Any:
    """The prometheus_client object for ``name`` (one of :data:`SPECS`), created on first use."""
    found = _created.get(name)
    if found is not None:
        return found
    with _lock:
        if name not in _created:
            _created[name] = _create(SPECS[name])
        return _created[name]


def _create(spec: MetricSpec) -> Any:
    try:
        import prometheus_client  # deferred: BentoML sets PROMETHEUS_MULTIPROC_DIR in the worker first

        existing = prometheus_client.REGISTRY._names_to_collectors.get(spec.name)  # this module imported twice
        if existing is not None:
            return existing
        if spec.kind == "gauge":
            return prometheus_client.Gauge(spec.name, spec.documentation, spec.labels, multiprocess_mode="livesum")
        if spec.kind == "counter":
            return prometheus_client.Counter(spec.name, spec.documentation, spec.labels)
        return prometheus_client.Histogram(spec.name, spec.documentation, spec.labels, buckets=BATCH_SIZE_BUCKETS)
    except Exception as exc:  # noqa: BLE001 - metrics are never worth a failed request
        if spec.name not in _failed:
            _failed.add(spec.name)
            log.warning("metric %s is not exported: %s", spec.name, exc)
        return _Unavailable()


# -- what the services record ------------------------------------------------------------------


def set_in_flight(service: str, requests: int) -> None:
    metric(REQUESTS_IN_FLIGHT).labels(service).set(requests)


def set_in_flight_limit(service: str, limit: int) -> None:
    metric(REQUESTS_IN_FLIGHT_LIMIT).labels(service).set(limit)


def count_overloaded(service: str, reason: str) -> None:
    if reason not in REASONS:
        raise ValueError(f"unknown overload reason {reason!r}; one of {REASONS}")
    metric(OVERLOADED).labels(service, reason).inc()


def set_queue_depth(service: str, images: int) -> None:
    metric(BATCH_QUEUE).labels(service).set(images)


def observe_batch(service: str, images: int) -> None:
    metric(BATCH_SIZE).labels(service).observe(images)


def count_rejected(service: str, images: int) -> None:
    metric(BATCH_REJECTED).labels(service).inc(images)
