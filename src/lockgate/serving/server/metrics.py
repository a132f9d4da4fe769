"""The inference server's Prometheus metrics: requests, errors, latency and batch sizes per
model and version, and the prediction log's counters, in a registry of the server's own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from lockgate.serving.prediction_log import PredictionLogStats

__all__ = ["CONTENT_TYPE", "ModelMetrics", "ServerMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.0, 2.5, 5.0,
)  # fmt: skip
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


class ModelMetrics:
    """The metric children of one served version, bound once so a request pays no lookup."""

    def __init__(self, metrics: ServerMetrics, model: str, version: int) -> None:
        labels = (model, str(version))
        self._requests = metrics.requests
        self._errors = metrics.errors
        self._labels = labels
        self._ok: dict[str, Counter] = {}
        self.latency = metrics.latency.labels(*labels)
        self.batch_rows = metrics.batch_rows.labels(*labels)
        self.rows = metrics.rows.labels(*labels)

    def succeeded(self, protocol: str, seconds: float, rows: int) -> None:
        counter = self._ok.get(protocol)
        if counter is None:
            counter = self._ok[protocol] = self._requests.labels(*self._labels, protocol, "ok")
        counter.inc()
        self.latency.observe(seconds)
        self.rows.inc(rows)

    def failed(self, protocol: str, code: str) -> None:
        self._requests.labels(*self._labels, protocol, "error").inc()
        self._errors.labels(*self._labels, code).inc()


class ServerMetrics:
    """The metrics of one inference server process."""

    def __init__(self) -> None:
        # `_created` series: one more time series per label set, that nothing here reads.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        model = ("model", "version")
        self.requests = Counter(
            "lockgate_inference_requests",
            "Inference requests, by protocol and outcome.",
            (*model, "protocol", "status"),
            registry=self.registry,
        )
        self.errors = Counter(
            "lockgate_inference_errors",
            "Failed inference requests, by error code.",
            (*model, "code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "lockgate_inference_request_duration_seconds",
            "Time from a request's body being read to its answer being ready.",
            model,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_rows = Histogram(
            "lockgate_inference_batch_rows",
            "Rows in each call of a model's predict (adaptive batching).",
            model,
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            "lockgate_inference_rows", "Rows scored.", model, registry=self.registry
        )

    def for_model(self, model: str, version: int) -> ModelMetrics:
        return ModelMetrics(self, model, version)

    def watch_prediction_log(self, stats: Callable[[], PredictionLogStats]) -> None:
        self.registry.register(_PredictionLogCollector(stats))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _PredictionLogCollector(Collector):
    def __init__(self, stats: Callable[[], PredictionLogStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        stats = self._stats()
        prefix = "lockgate_prediction_log"
        for name, value, text in (
            ("queued", stats.queued, "Records the prediction log accepted."),
            ("written", stats.written, "Records the sink took."),
            ("spilled", stats.spilled, "Records written to the spill directory."),
            ("replayed", stats.replayed, "Records replayed from the spill directory."),
            ("dropped", stats.dropped, "Records lost."),
            ("sink_errors", stats.sink_errors, "Sink calls that raised."),
            ("sink_stalls", stats.sink_stalls, "Sink calls that outlasted the write timeout."),
        ):
            yield CounterMetricFamily(f"{prefix}_{name}", text, value=value)
        for name, value, text in (
            ("in_memory", stats.in_memory, "Records waiting in memory."),
            ("spill_segments", stats.spill_segments, "Segment files in the spill directory."),
            ("spill_bytes", stats.spill_bytes, "Bytes in the spill directory."),
        ):
            yield GaugeMetricFamily(f"{prefix}_{name}", text, value=value)
