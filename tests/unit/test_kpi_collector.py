"""The KPI gauges a scrape returns, read from the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered
from monitoring.collector import KpiCollector, OutboxCollector


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


def test_overdue_cases_are_counted_by_district_and_department_kind_once_each(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    vague = {"title": "感谢信", "content": "感谢工作人员。", "drop": ("category",)}
    for fields in ({"region": "500103001"}, {"region": "500103"}, {"region": "500112", **vague}):
        outcome = app.intake.receive(encode(make_case(**fields)), "application/json", "case.phone")
        assert isinstance(outcome, Registered)
        app.routing.route(outcome.case_id)
    registry = CollectorRegistry()
    registry.register(KpiCollector(app.engine, clock))
    assert (
        registry.get_sample_value(
            "xinfang_overdue_cases", {"district": "500103", "org_kind": "housing"}
        )
        is None
    )

    clock.advance(timedelta(days=20))  # past forwarding (triage) and acceptance (assigned)
    assert (
        registry.get_sample_value(
            "xinfang_overdue_cases", {"district": "500103", "org_kind": "housing"}
        )
        == 2
    )  # a village's case counts in its district
    assert (
        registry.get_sample_value(
            "xinfang_overdue_cases", {"district": "500112", "org_kind": "petition_bureau"}
        )
        == 1
    )


def test_the_outbox_backlog_and_the_age_of_the_next_event_to_publish(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    registry = CollectorRegistry()
    registry.register(OutboxCollector(app.engine, clock))
    assert registry.get_sample_value("xinfang_outbox_backlog") == 0
    assert registry.get_sample_value("xinfang_outbox_oldest_age_seconds") == 0
    app.intake.receive(encode(make_case()), "application/json", "case.phone")
    clock.advance(timedelta(minutes=3))
    app.intake.receive(encode(make_case()), "application/json", "case.phone")
    clock.advance(timedelta(seconds=30))

    assert registry.get_sample_value("xinfang_outbox_backlog") == 2  # case.registered each
    assert registry.get_sample_value("xinfang_outbox_oldest_age_seconds") == 210


def test_a_scrape_while_the_database_is_away_fails_no_scrape(clock: FixedClock) -> None:
    away = create_engine("sqlite:////nonexistent/folder/xinfang.db")
    registry = CollectorRegistry()
    registry.register(KpiCollector(away, clock))
    registry.register(OutboxCollector(away, clock))
    assert list(registry.collect()) == []  # logged, and the process's own metrics still served
