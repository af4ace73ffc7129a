"""The Prometheus series of `/metrics`, through the official `prometheus_client`.

Process metrics (HTTP latency, websockets, responder latency) live in the process that
observes them. With several processes (uvicorn `--workers N`, Celery workers on the same
host) set `PROMETHEUS_MULTIPROC_DIR` to a directory they share: `prometheus_client` then
writes every process's values there and a scrape of any process merges them. Without it,
each process answers for itself.

Deployment-wide figures (queue depth, task failures, worker heartbeat age) are read at
scrape time from where every process can see them (`analytics.monitoring.cluster_metrics`).
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics.monitoring.cluster_metrics import celery_queue_lengths, task_failures
from analytics.monitoring.heartbeat import worker_heartbeat_age

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

HTTP_LATENCY = Histogram(
    "customeragent_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBSOCKET_CONNECTIONS = Gauge(
    "customeragent_websocket_connections",
    "Widget websockets open now (accepted and authenticated).",
    multiprocess_mode="livesum",
)
WEBSOCKET_MESSAGES = Counter(
    "customeragent_websocket_messages",
    "Visitor messages stored and acknowledged over the widget websocket.",
)
RESPONDER_LATENCY = Histogram(
    "customeragent_responder_duration_seconds",
    "Time the agent's responder took to answer one visitor message.",
    ["responder"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)


def _deployment_families() -> tuple[GaugeMetricFamily, CounterMetricFamily, GaugeMetricFamily]:
    queue = GaugeMetricFamily(
        "customeragent_celery_queue_length",
        "Tasks waiting in the Celery broker queue.",
        labels=["queue"],
    )
    failures = CounterMetricFamily(
        "customeragent_celery_task_failures",
        "Celery tasks that ended in an error, by task name.",
        labels=["task"],
    )
    heartbeat = GaugeMetricFamily(
        "customeragent_worker_heartbeat_age_seconds",
        "Seconds since a Celery worker last ran the heartbeat task (-1: never).",
    )
    return queue, failures, heartbeat


class DeploymentCollector(Collector):
    """Queue depth, task failures and heartbeat age, read when scraped."""

    def describe(self) -> Iterator[Metric]:
        # What registering asks (it would call collect() otherwise): the names alone, so a
        # process starting while Redis is down (a web process, a worker) still starts.
        yield from _deployment_families()

    def collect(self) -> Iterator[Metric]:
        queue, failures, heartbeat = _deployment_families()
        try:
            for name, length in celery_queue_lengths().items():
                queue.add_metric([name], length)
            for name, count in sorted(task_failures().items()):
                failures.add_metric([name], count)
            age = worker_heartbeat_age()
            heartbeat.add_metric([], -1.0 if age is None else age)
        except Exception:  # a scrape reports what it can; Redis may be down
            logger.warning("broker figures unavailable for /metrics", exc_info=True)
        yield from (queue, failures, heartbeat)


_deployment = DeploymentCollector()
if not MULTIPROCESS:
    REGISTRY.register(_deployment)
else:
    # A worker that exits cleanly drops its live gauges (websocket connections) at once.
    atexit.register(multiprocess.mark_process_dead, os.getpid())


def metrics_exposition() -> tuple[bytes, str]:
    """The text a scraper reads, and its content type."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_deployment)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def websocket_opened() -> None:
    WEBSOCKET_CONNECTIONS.inc()


def websocket_closed() -> None:
    WEBSOCKET_CONNECTIONS.dec()


def websocket_message_acked() -> None:
    WEBSOCKET_MESSAGES.inc()


@contextmanager
def responder_timed(responder: str) -> Iterator[None]:
    """Observe how long the block (one responder answer) takes."""
    started = time.perf_counter()
    try:
        yield
    finally:
        RESPONDER_LATENCY.labels(responder=responder or "unknown").observe(
            time.perf_counter() - started
        )
