"""The scheduler's escalation jobs: clocks past a ladder step are enqueued with the sweep's
time, and a notification is enqueued again only once its attempt is long overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.services.intake import Registered
from workers.scheduler import STALE_AFTER, enqueue_escalations, requeue_notifications

WARNING = datetime(2026, 6, 8, 9, 0, tzinfo=SHANGHAI)  # the acceptance clock's 预警


def _routed_case(app: App, make_case: Callable[..., dict[str, Any]], encode: Any) -> str:
    outcome = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return outcome.case_id


def test_clocks_past_a_step_are_enqueued_with_the_sweeps_time(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    case_id = _routed_case(app, make_case, encode)
    enqueued: list[tuple[str, str, datetime]] = []

    def enqueue(case: str, name: str, at: datetime) -> None:
        enqueued.append((case, name, at))

    clock.advance(WARNING - clock() - timedelta(minutes=1))
    assert enqueue_escalations(app.escalations, clock, enqueue) == 0
    clock.advance(timedelta(minutes=1))
    assert enqueue_escalations(app.escalations, clock, enqueue) == 1
    assert enqueued == [(case_id, "acceptance", WARNING)]
    app.escalations.escalate(case_id, "acceptance", WARNING)
    assert enqueue_escalations(app.escalations, clock, enqueue) == 0  # the next step is later


def test_a_pending_notification_is_enqueued_again_only_when_long_overdue(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    case_id = _routed_case(app, make_case, encode)
    clock.advance(WARNING - clock())
    (taken,) = app.escalations.escalate(case_id, "acceptance", WARNING)
    assert taken.notifications  # the unit's webhook (no SMTP here: e-mails are skipped)
    enqueued: list[str] = []
    clock.advance(STALE_AFTER - timedelta(seconds=1))
    assert requeue_notifications(app.deliveries, clock, enqueued.append) == 0
    clock.advance(timedelta(seconds=2))
    assert requeue_notifications(app.deliveries, clock, enqueued.append) == len(taken.notifications)
    assert sorted(enqueued) == sorted(taken.notifications)
