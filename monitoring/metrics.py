"""Every metric xinfang exposes, defined in one place (docs/metrics.md lists them).

Three kinds, all prefixed `xinfang_`:

- counted by the processes as work is done (counters and histograms): `Metrics`, the port the
  services and adapters count through (dispatcher.services.ports.Metrics);
- read from the database at each scrape (gauges): their names, help and labels are the
  `SystemGauge`s below, computed by monitoring.collector;
- the process's own state at each scrape: `xinfang_role_up` and `xinfang_build_info`.

Label values are bounded enumerations (channel, reason code, stage, org kind, district, step
kind, level, outcome), never case ids, names or free text, so the number of series stays small
and no identity leaks. A district is the first six digits of a region code (a 区县 or the city
itself: about forty values in Chongqing).

Multiprocess mode (prometheus_client's, as its documentation describes): when the variable
PROMETHEUS_MULTIPROC_DIR names a directory in the environment a process starts with, every
counter and histogram of every xinfang process on that directory (dramatiq's actor metrics
included) is written to memory-mapped files there, and the process that serves the system's
gauges (`xinfang metrics`, `xinfang run`) serves their sum. The other processes then serve on
their own metrics port only their probes, `xinfang_role_up` and `xinfang_build_info`, so that
Prometheus counts nothing twice. The directory must be emptied before the processes that share
it start (not while any of them runs).
"""

from __future__ import annotations

import atexit
import os
import platform
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dispatcher import __version__

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
DISTRICT_DIGITS = 6

# Dispatch latency runs from seconds (embedded) to the 15 days of Art 22.
_DISPATCH_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 15 * 86400)
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


def district(region_code: str) -> str:
    """The district of a region code (6, 9 or 12 digits): its first six digits."""
    return region_code[:DISTRICT_DIGITS]


# -- multiprocess mode ------------------------------------------------------------------------


def process_id() -> str:
    """Names this process's files in the multiprocess directory. Processes of several
    containers may share one directory, each as pid 1: the host name tells them apart. An
    underscore separates the parts of those file names, so none may be in it."""
    return f"{socket.gethostname()}-{os.getpid()}".replace("_", "-")


def _multiprocess_directory() -> Path | None:
    """The multiprocess directory this process was started with, set up; None without one.
    Runs once, at import, before any metric exists: prometheus_client chooses where values
    live when a metric is made."""
    named = os.environ.get(MULTIPROC_VARIABLE)
    if not named:
        return None
    directory = Path(named)
    directory.mkdir(parents=True, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(process_identifier=process_id)
    # Live gauges (dramatiq's messages in progress) of a process that has ended must not count.
    atexit.register(lambda: multiprocess.mark_process_dead(process_id(), str(directory)))
    return directory


MULTIPROCESS_DIRECTORY = _multiprocess_directory()


# -- gauges read from the database at each scrape (monitoring.collector) -------------------


@dataclass(frozen=True)
class SystemGauge:
    name: str
    help: str
    labels: tuple[str, ...] = ()

    def family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(self.name, self.help, labels=list(self.labels))


KPI_RATIO = SystemGauge("xinfang_kpi_ratio", "The platform's KPIs, 0 to 1.", ("kpi",))
OPEN_CLOCKS = SystemGauge("xinfang_open_clocks", "Clocks not yet met.", ("clock",))
OVERDUE_CLOCKS = SystemGauge("xinfang_overdue_clocks", "Clocks past their deadline.", ("clock",))
OVERDUE_CASES = SystemGauge(
    "xinfang_overdue_cases",
    "Cases with a clock past its deadline, by district (first six digits of the case's "
    "region code) and kind of the responsible department.",
    ("district", "org_kind"),
)
OUTBOX_BACKLOG = SystemGauge(
    "xinfang_outbox_backlog", "Events written but not yet published to xinfang.events."
)
OUTBOX_OLDEST_AGE = SystemGauge(
    "xinfang_outbox_oldest_age_seconds",
    "How long the next event the relay is to publish has waited (0 when none waits).",
)
SYSTEM_GAUGES = (
    KPI_RATIO,
    OPEN_CLOCKS,
    OVERDUE_CLOCKS,
    OVERDUE_CASES,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
)


# -- the process's own state -------------------------------------------------------------------

ROLE_UP = SystemGauge(
    "xinfang_role_up",
    "1 while the role runs and reaches what it needs (consuming, connected), else 0.",
    ("role",),
)
BUILD_INFO = SystemGauge(
    "xinfang_build_info",
    "Always 1: the version of xinfang this process runs.",
    ("version", "python"),
)


class RoleStates(Collector):
    """`xinfang_role_up`, asked of each role at each scrape. A collector rather than a gauge:
    multiprocess mode cannot compute a gauge at scrape time, and a role's state is this
    process's own anyway."""

    def __init__(self) -> None:
        self._roles: dict[str, Callable[[], bool]] = {}

    def watch(self, role: str, up: Callable[[], bool]) -> None:
        self._roles[role] = up

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = ROLE_UP.family()
        for role, up in sorted(self._roles.items()):
            family.add_metric([role], float(bool(up())))
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [ROLE_UP.family()]


class BuildInfo(Collector):
    """`xinfang_build_info{version, python} 1` (prometheus_client's Info has no multiprocess
    mode, so the same sample is made here)."""

    def __init__(self, version: str = __version__) -> None:
        self._labels = [version, platform.python_version()]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = BUILD_INFO.family()
        family.add_metric(self._labels, 1)
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [BUILD_INFO.family()]


# -- counted by the processes ------------------------------------------------------------------


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # This process's own metrics (in multiprocess mode also written to its files there).
        self.registry = registry if registry is not None else CollectorRegistry()
        self._define_intake()
        self._define_dispatch()
        self._define_escalation()
        self._define_plumbing()
        self.role_up = RoleStates()
        self._build = BuildInfo()
        self._system: list[Collector] = []
        self.registry.register(self.role_up)
        self.registry.register(self._build)

    def _define_intake(self) -> None:
        r = self.registry
        self.cases_received = Counter(
            "xinfang_cases_received", "Cases registered from intake.", ["channel"], registry=r
        )
        self.cases_rejected = Counter(
            "xinfang_cases_rejected",
            "Intake messages dead-lettered as invalid, by reason code.",
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

    def _define_dispatch(self) -> None:
        r = self.registry
        self.cases_routed = Counter(
            "xinfang_cases_routed",
            "Routing decisions: outcome (assigned, or triage at the petition bureau), kind of "
            "the department and district of the case.",
            ["outcome", "org_kind", "district"],
            registry=r,
        )
        self.dispatch_latency = Histogram(
            "xinfang_dispatch_latency_seconds",
            "From receipt to assignment.",
            ["channel"],
            buckets=_DISPATCH_BUCKETS,
            registry=r,
        )

    def _define_escalation(self) -> None:
        r = self.registry
        self.escalation_steps = Counter(
            "xinfang_escalation_steps",
            "Escalation ladder steps taken, by kind (warning, reminder, supervision, listed) "
            "and level of the region whose leaders are told (city, district, ...).",
            ["kind", "level"],
            registry=r,
        )
        self.notifications = Counter(
            "xinfang_notifications",
            "Notifications of escalation steps, by channel and outcome: sent, retry (an "
            "attempt failed, another is due), failed (the last attempt failed), skipped (the "
            "channel is not configured).",
            ["channel", "outcome"],
            registry=r,
        )

    def _define_plumbing(self) -> None:
        r = self.registry
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

    # -- what this process serves ---------------------------------------------------------
    def adopt(self, collectors: Iterable[Collector]) -> None:
        """Show metrics defined elsewhere (dramatiq's actor metrics) with this process's own.
        In multiprocess mode they are in the files already."""
        if MULTIPROCESS_DIRECTORY is None:
            for collector in collectors:
                self.registry.register(collector)

    def exposition(
        self, system: Sequence[Collector] = (), aggregate: bool = False
    ) -> CollectorRegistry:
        """What this process serves at /metrics: its own metrics and the `system` collectors
        (the gauges read from the database). In multiprocess mode, the counters of every
        process on the directory when `aggregate` (the process that serves the system's
        gauges), else none: only the role states and the build."""
        if MULTIPROCESS_DIRECTORY is None:
            for collector in system:
                if collector not in self._system:  # asked twice, served once
                    self._system.append(collector)
                    self.registry.register(collector)
            return self.registry
        registry = CollectorRegistry()
        if aggregate:
            multiprocess.MultiProcessCollector(registry, path=str(MULTIPROCESS_DIRECTORY))
        for collector in (*system, self.role_up, self._build):
            registry.register(collector)
        return registry

    # -- the port the services and adapters count through (dispatcher.services.ports) -------
    def case_received(self, channel: str) -> None:
        self.cases_received.labels(channel).inc()

    def case_duplicate(self, channel: str) -> None:
        self.cases_duplicate.labels(channel).inc()

    def case_linked(self, kind: str) -> None:
        self.cases_linked.labels(kind).inc()

    def case_rejected(self, reason: str) -> None:
        self.cases_rejected.labels(reason).inc()

    def case_routed(self, outcome: str, org_kind: str, region: str) -> None:
        self.cases_routed.labels(outcome, org_kind, district(region)).inc()

    def case_dispatched(self, channel: str, seconds: float) -> None:
        self.dispatch_latency.labels(channel).observe(seconds)

    def escalation_step(self, kind: str, level: str) -> None:
        self.escalation_steps.labels(kind, level).inc()

    def notification(self, channel: str, outcome: str) -> None:
        self.notifications.labels(channel, outcome).inc()

    def event_published(self, event_type: str) -> None:
        self.events_published.labels(event_type).inc()

    def consumer_retry(self, consumer: str, kind: str) -> None:
        self.consumer_retries.labels(consumer, kind).inc()

    def batch_handled(self, stage: str, size: int) -> None:
        self.batch_size.labels(stage).observe(size)
