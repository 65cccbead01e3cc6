"""Every metric name a dashboard panel or an alert may use, from where each is defined: xinfang's
(monitoring/metrics.py, the collector's gauges among them), dramatiq's Prometheus middleware
(as workers/broker.py builds it) and RabbitMQ's rabbitmq_prometheus plugin."""

from __future__ import annotations

import re

from prometheus_client.metrics_core import Metric

from monitoring.metrics import SYSTEM_GAUGES, Metrics
from workers.broker import ActorMetrics

# The plugin's queue families as its collector names them
# (deps/rabbitmq_prometheus/src/collectors/prometheus_rabbitmq_core_metrics_collector.erl:
# queue_coarse_metrics, queue_consumer_count, queue_metrics), served per queue on
# /metrics/per-object, and the scrape's own `up`.
RABBITMQ = frozenset(
    {
        "rabbitmq_queue_messages_ready",
        "rabbitmq_queue_messages_unacked",
        "rabbitmq_queue_messages",
        "rabbitmq_queue_consumers",
        "rabbitmq_queue_consumer_capacity",
        "rabbitmq_queue_messages_published_total",
        "rabbitmq_queues",
        "rabbitmq_consumers",
        "rabbitmq_connections",
    }
)
PROMETHEUS = frozenset({"up"})

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def _sample_names(families: list[Metric]) -> set[str]:
    return {
        family.name + suffix for family in families for suffix in _SUFFIXES.get(family.type, ("",))
    }


def xinfang_names() -> set[str]:
    return _sample_names(list(Metrics().registry.collect())) | {g.name for g in SYSTEM_GAUGES}


def dramatiq_names() -> set[str]:
    return _sample_names([family for c in ActorMetrics().collectors for family in c.collect()])


def known_names() -> set[str]:
    return xinfang_names() | dramatiq_names() | RABBITMQ | PROMETHEUS


def used_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (those of the three sources, and `up`)."""
    names = set(re.findall(r"\b(?:xinfang|dramatiq|rabbitmq)_[a-z0-9_]+", expr))
    return names | ({"up"} if re.search(r"\bup\{", expr) else set())
