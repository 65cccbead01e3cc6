"""The sweep that re-enqueues routing for cases whose route message was lost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dispatcher.adapters.outage import Outage
from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered
from workers.scheduler import STALE_AFTER, requeue_unrouted, sweep_once


def test_only_cases_waiting_too_long_are_enqueued_again(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    lost = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    clock.advance(STALE_AFTER + timedelta(minutes=1))
    fresh = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    routed = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(lost, Registered) and isinstance(fresh, Registered)
    assert isinstance(routed, Registered)
    app.routing.route(routed.case_id)
    clock.advance(timedelta(minutes=1))
    enqueued: list[str] = []

    assert requeue_unrouted(app.engine, clock, enqueued.append) == 1
    assert enqueued == [lost.case_id]
    app.routing.route(lost.case_id)
    assert requeue_unrouted(app.engine, clock, enqueued.append) == 0


def test_a_sweep_waits_out_a_broker_outage_and_tells_it_once(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
    caplog: Any,
) -> None:
    lost = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    clock.advance(STALE_AFTER + timedelta(minutes=1))
    outage = Outage("scheduler")
    enqueued: list[str] = []

    def broker_away(case_id: str) -> None:
        raise ConnectionRefusedError("broker away")

    with caplog.at_level(logging.WARNING, logger="dispatcher.adapters.outage"):
        assert sweep_once(app.engine, clock, broker_away, outage) == 0
        assert sweep_once(app.engine, clock, broker_away, outage) == 0
        assert outage.down
        assert sweep_once(app.engine, clock, enqueued.append, outage) == 1
    assert enqueued == [lost.case_id] and not outage.down
    told = [r.getMessage() for r in caplog.records if r.name == "dispatcher.adapters.outage"]
    assert len(told) == 2
    assert "broker unavailable (ConnectionRefusedError" in told[0]
    assert "available again" in told[1] and "2 retries" in told[1]


def test_a_sweep_lets_a_bug_through(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    app.intake.receive(encode(make_case()), "application/json", "case.phone")
    clock.advance(STALE_AFTER + timedelta(minutes=1))

    def bug(case_id: str) -> None:
        raise KeyError(case_id)

    with pytest.raises(KeyError):
        sweep_once(app.engine, clock, bug, Outage("scheduler"))
