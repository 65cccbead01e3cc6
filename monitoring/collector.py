"""KPIs and open clocks as Prometheus gauges, computed from the database at each scrape.

Counters live in each process (monitoring.metrics); these numbers belong to the whole
system, so they are read from the database, where every process writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from dispatcher.adapters.db.tables import clocks
from dispatcher.domain.clock import Clock
from monitoring.kpi import compute_kpis

log = logging.getLogger(__name__)


class KpiCollector(Collector):
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._collect()
        except Exception as error:  # a scrape must not fail because the database is away
            log.warning("KPI collection failed: %s", type(error).__name__)

    def _collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock()
        with self._engine.connect() as conn:
            kpis = compute_kpis(conn, now)
            open_rows = conn.execute(
                select(clocks.c.name, func.count(), func.count().filter(clocks.c.due_at < now))
                .where(clocks.c.met_at.is_(None))
                .group_by(clocks.c.name)
            ).all()
        ratio = GaugeMetricFamily(
            "xinfang_kpi_ratio", "The platform's KPIs, 0 to 1.", labels=["kpi"]
        )
        for name, value in kpis.__dict__.items():
            if value.rate is not None:
                ratio.add_metric([name], value.rate)
        yield ratio
        open_clocks = GaugeMetricFamily(
            "xinfang_open_clocks", "Clocks not yet met.", labels=["clock"]
        )
        overdue = GaugeMetricFamily(
            "xinfang_overdue_clocks", "Clocks past their deadline.", labels=["clock"]
        )
        for name, total, late in open_rows:
            open_clocks.add_metric([name], total)
            overdue.add_metric([name], late)
        yield open_clocks
        yield overdue
