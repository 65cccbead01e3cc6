"""The system's gauges, computed from the database at each scrape: the KPIs, the open and
overdue clocks, the overdue cases by district and department kind, the outbox.

Counters live in each process (monitoring.metrics); these numbers belong to the whole
system, so they are read from the database, where every process writes. Each scrape costs a
few aggregate queries, each on an index: the open clocks on ix_clocks_open_due (partial, met_at
IS NULL), the outbox on ix_events_unpublished (partial, published_at IS NULL).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, literal_column, select

from dispatcher.adapters.db.tables import cases, clocks, events
from dispatcher.domain.clock import Clock
from monitoring.kpi import compute_kpis
from monitoring.metrics import (
    DISTRICT_DIGITS,
    KPI_RATIO,
    OPEN_CLOCKS,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OVERDUE_CASES,
    OVERDUE_CLOCKS,
)

log = logging.getLogger(__name__)

NO_KIND = "unrouted"  # a case not routed yet has no department (as `xinfang report` says)


class KpiCollector(Collector):
    """The KPIs, open and overdue clocks, and overdue cases by district and kind."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._engine.connect() as conn:
                families = _kpi_families(conn, self._clock())
        except Exception as error:  # a scrape must not fail because the database is away
            log.warning("KPI collection failed: %s", type(error).__name__)
            return
        yield from families


class OutboxCollector(Collector):
    """How many events wait in the outbox, and how long the next one to go has waited: a
    relay that is down or cannot publish shows as a growing age."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self._engine.connect() as conn:
                families = _outbox_families(conn, self._clock())
        except Exception as error:  # as above
            log.warning("outbox collection failed: %s", type(error).__name__)
            return
        yield from families


def _kpi_families(conn: Connection, now: datetime) -> list[GaugeMetricFamily]:
    ratio = KPI_RATIO.family()
    for name, value in compute_kpis(conn, now).__dict__.items():
        if value.rate is not None:
            ratio.add_metric([name], value.rate)
    open_clocks, overdue = OPEN_CLOCKS.family(), OVERDUE_CLOCKS.family()
    for name, total, late in _clocks_by_name(conn, now):
        open_clocks.add_metric([name], total)
        overdue.add_metric([name], late)
    cases_overdue = OVERDUE_CASES.family()
    for district, kind, count in _overdue_cases(conn, now):
        cases_overdue.add_metric([district, kind or NO_KIND], count)
    return [ratio, open_clocks, overdue, cases_overdue]


def _clocks_by_name(conn: Connection, now: datetime) -> list[tuple[str, int, int]]:
    rows = conn.execute(
        select(clocks.c.name, func.count(), func.count().filter(clocks.c.due_at < now))
        .where(clocks.c.met_at.is_(None))
        .group_by(clocks.c.name)
    ).all()
    return [(name, int(total), int(late)) for name, total, late in rows]


def _overdue_cases(conn: Connection, now: datetime) -> list[tuple[str, str | None, int]]:
    """One grouped query: the overdue clocks (a range of ix_clocks_open_due) joined to their
    cases by primary key; a case with two overdue clocks counts once."""
    # Literals, not parameters: PostgreSQL groups by an expression only if it is the same one.
    district = func.substr(
        cases.c.region, literal_column("1"), literal_column(str(DISTRICT_DIGITS))
    )
    rows = conn.execute(
        select(district, cases.c.org_kind, func.count(func.distinct(clocks.c.case_id)))
        .select_from(clocks.join(cases, cases.c.case_id == clocks.c.case_id))
        .where(clocks.c.met_at.is_(None), clocks.c.due_at < now)
        .group_by(district, cases.c.org_kind)
    ).all()
    return [(str(d), kind, int(count)) for d, kind, count in rows]


def _outbox_families(conn: Connection, now: datetime) -> list[GaugeMetricFamily]:
    unpublished = events.c.published_at.is_(None)
    backlog = conn.scalar(select(func.count()).select_from(events).where(unpublished))
    # The relay publishes in id order: the head of the partial index is the next to go.
    oldest = conn.scalar(select(events.c.at).where(unpublished).order_by(events.c.id).limit(1))
    size, age = OUTBOX_BACKLOG.family(), OUTBOX_OLDEST_AGE.family()
    size.add_metric([], int(backlog or 0))
    age.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
    return [size, age]
