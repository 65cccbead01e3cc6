"""The sweep that re-enqueues routing for cases whose route message was lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dispatcher.app import App
from dispatcher.clock import FixedClock
from dispatcher.scheduler import STALE_AFTER, requeue_unrouted
from dispatcher.services.intake import Registered


def test_only_cases_waiting_too_long_are_enqueued_again(
        app: App, clock: FixedClock, make_case: Callable[..., dict[str, Any]],
        encode: Callable[..., bytes]) -> None:
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
