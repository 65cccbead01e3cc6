"""What the demo's report counts against timely acceptance: a case the petition bureau still holds
past its 15-day forwarding period (Art 22) has not been accepted in time, although no acceptance
period has started for it; one forwarded late is late however fast the department then is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.decisions import Action, Command
from dispatcher.services.intake import Registered
from monitoring.kpi import compute_kpis


def _registered(app: App, message: dict[str, Any], encode: Callable[..., bytes]) -> str:
    outcome = app.intake.receive(encode(message), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    return outcome.case_id


def _accept(app: App, case_id: str) -> None:
    app.commands.handle(Command(Action.ACCEPT, case_id, "t", data={}))


def test_a_case_held_past_its_forwarding_period_is_not_accepted_in_time(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    prompt = _registered(app, make_case(), encode)
    _registered(app, make_case(), encode)  # never forwarded: no acceptance period starts
    app.routing.route(prompt)
    _accept(app, prompt)
    with app.engine.connect() as conn:
        before = compute_kpis(conn, clock())
    clock.advance(timedelta(days=20))  # past the 15 days of Art 22
    with app.engine.connect() as conn:
        after = compute_kpis(conn, clock())
    # within its period the held case counts neither way; past it, against the rate
    assert (before.timely_acceptance.good, before.timely_acceptance.total) == (1, 1)
    assert (after.timely_acceptance.good, after.timely_acceptance.total) == (1, 2)


def test_a_case_forwarded_late_stays_late_when_accepted_at_once(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    late = _registered(app, make_case(), encode)
    clock.advance(timedelta(days=20))
    app.routing.route(late)
    _accept(app, late)
    with app.engine.connect() as conn:
        kpis = compute_kpis(conn, clock())
    assert (kpis.timely_acceptance.good, kpis.timely_acceptance.total) == (0, 1)
