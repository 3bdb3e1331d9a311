"""/metrics: Herald's counters (every process's, in multiprocess mode) plus facts read now."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from app import metrics  # noqa: F401  (defines the counters before a scrape reads them)
from app.runs import health
from app.runs.dispatch import QueueUnavailable
from herald_procs.liveness import forget_dead_processes


class _ThisProcess:
    """The counters of this process alone (no PROMETHEUS_MULTIPROC_DIR)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class _SystemNow:
    """Gauges read at scrape time from Redis and the database (app/runs/health.py)."""

    def collect(self) -> Iterator[Metric]:
        ready = health.readiness()
        for name, up in ready.items():
            yield _gauge(f"herald_{name}_up", f"1 when {name} answers", up)
        if not ready["redis"]:
            return
        try:
            queues = health.queue_facts()
            workers = health.live_workers()
            clock = health.clock_fact()
        except QueueUnavailable:
            return
        depth = GaugeMetricFamily("herald_queue_depth", "Jobs waiting in a queue", labels=["queue"])
        oldest = GaugeMetricFamily(
            "herald_queue_oldest_age_seconds", "Age of the oldest waiting job", labels=["queue"]
        )
        failed = GaugeMetricFamily("herald_rq_failed_jobs", "RQ's failed jobs", labels=["queue"])
        for queue in queues:
            depth.add_metric([queue.name], queue.depth)
            oldest.add_metric([queue.name], queue.oldest_age_seconds or 0.0)
            failed.add_metric([queue.name], queue.failed)
        yield from (depth, oldest, failed)
        yield _gauge("herald_workers", "RQ workers registered and alive", len(workers))
        if clock.lag_seconds is not None:
            yield _gauge(
                "herald_clock_lag_seconds", "Seconds since a clock last ticked", clock.lag_seconds
            )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


def scrape(metrics_dir: str | None) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type.

    `metrics_dir` is PROMETHEUS_MULTIPROC_DIR: every process's counters are summed from the
    files there, after the live gauges of this host's dead processes are dropped; None reads
    this process's own. Needs an app context (gauges ask Redis and the database, and an
    outage shows as herald_redis_up 0 / herald_database_up 0)."""
    registry = CollectorRegistry()
    if metrics_dir:
        # A killed worker or clock of this host never says it died: drop its live gauge.
        forget_dead_processes(metrics_dir)
        MultiProcessCollector(registry, path=metrics_dir)
    else:
        registry.register(_ThisProcess())
    registry.register(_SystemNow())
    return generate_latest(registry), CONTENT_TYPE_LATEST
