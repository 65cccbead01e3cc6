"""Every metric xinfang exposes, defined in one place.

Label values are bounded enumerations (channel, reason code, stage, org kind, outcome), never
case ids, names or free text, so the number of series stays small and no identity leaks.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Dispatch latency runs from seconds (embedded) to the 15 days of Art 22.
_DISPATCH_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 15 * 86400)
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.cases_received = Counter(
            "xinfang_cases_received", "Cases registered from intake.", ["channel"], registry=r
        )
        self.cases_rejected = Counter(
            "xinfang_cases_rejected",
            "Intake messages dead-lettered as invalid.",
            ["reason"],
            registry=r,
        )
        self.cases_duplicate = Counter(
            "xinfang_cases_duplicate",
            "Intake messages for an already registered (source, external_id).",
            ["channel"],
            registry=r,
        )
        self.cases_linked = Counter(
            "xinfang_cases_linked",
            "Intake messages that joined an existing case instead of opening one, by kind "
            "(repeat, collective, refused_final).",
            ["kind"],
            registry=r,
        )
        self.cases_routed = Counter(
            "xinfang_cases_routed", "Routing decisions.", ["outcome", "org_kind"], registry=r
        )
        self.dispatch_latency = Histogram(
            "xinfang_dispatch_latency_seconds",
            "From receipt to assignment.",
            ["channel"],
            buckets=_DISPATCH_BUCKETS,
            registry=r,
        )
        self.events_published = Counter(
            "xinfang_events_published",
            "Events relayed from the outbox to the broker.",
            ["type"],
            registry=r,
        )
        self.consumer_retries = Counter(
            "xinfang_consumer_retries",
            "Deliveries put back to be tried again: the database was away (database), "
            "the broker was away (broker), or handling failed unexpectedly (unexpected).",
            ["consumer", "kind"],
            registry=r,
        )
        self.batch_size = Histogram(
            "xinfang_batch_size",
            "Messages handled together in one transaction: by a consumer (intake, commands), "
            "by one route message (route) and by one relay round (relay).",
            ["stage"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.role_up = Gauge(
            "xinfang_role_up",
            "1 while the role runs and reaches what it needs (consuming, connected), else 0.",
            ["role"],
            registry=r,
        )

    # -- the port the services and adapters count through (dispatcher.services.ports) -------
    def case_received(self, channel: str) -> None:
        self.cases_received.labels(channel).inc()

    def case_duplicate(self, channel: str) -> None:
        self.cases_duplicate.labels(channel).inc()

    def case_linked(self, kind: str) -> None:
        self.cases_linked.labels(kind).inc()

    def case_rejected(self, reason: str) -> None:
        self.cases_rejected.labels(reason).inc()

    def case_routed(self, outcome: str, org_kind: str) -> None:
        self.cases_routed.labels(outcome, org_kind).inc()

    def case_dispatched(self, channel: str, seconds: float) -> None:
        self.dispatch_latency.labels(channel).observe(seconds)

    def event_published(self, event_type: str) -> None:
        self.events_published.labels(event_type).inc()

    def consumer_retry(self, consumer: str, kind: str) -> None:
        self.consumer_retries.labels(consumer, kind).inc()

    def batch_handled(self, stage: str, size: int) -> None:
        self.batch_size.labels(stage).observe(size)
