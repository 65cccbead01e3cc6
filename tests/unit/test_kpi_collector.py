"""The KPI gauges a scrape returns, read from the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered
from monitoring.collector import KpiCollector


def test_scrape_shows_kpis_and_overdue_clocks(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    for channel in ("online", "phone"):
        outcome = app.intake.receive(
            encode(make_case(channel=channel)), "application/json", f"case.{channel}"
        )
        assert isinstance(outcome, Registered)
        app.routing.route(outcome.case_id)
    registry = CollectorRegistry()
    registry.register(KpiCollector(app.engine, clock))

    assert registry.get_sample_value("xinfang_kpi_ratio", {"kpi": "online_share"}) == 0.5
    assert registry.get_sample_value("xinfang_open_clocks", {"clock": "acceptance"}) == 2
    assert registry.get_sample_value("xinfang_overdue_clocks", {"clock": "acceptance"}) == 0
    clock.advance(timedelta(days=20))  # past the 15 days of Art 23
    assert registry.get_sample_value("xinfang_overdue_clocks", {"clock": "acceptance"}) == 2
    assert registry.get_sample_value("xinfang_kpi_ratio", {"kpi": "timely_acceptance"}) == 0.0
