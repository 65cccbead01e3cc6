"""The KPIs from the database: late and overdue periods count against the rates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.decisions import Action, Command
from dispatcher.services.intake import Registered
from monitoring.kpi import compute_kpis

REPLY = {"request": "r", "facts": "f", "reasons": "e", "decision": "d", "legal_basis": "b"}


def _routed(app: App, message: dict[str, Any], encode: Callable[..., bytes]) -> str:
    outcome = app.intake.receive(encode(message), "application/json", "case.x")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return outcome.case_id


def _do(app: App, case_id: str, action: Action, **data: Any) -> None:
    app.commands.handle(Command(action, case_id, "t", data=data))


def test_rates_count_late_and_overdue_periods(
    app: App,
    clock: FixedClock,
    make_case: Callable[..., dict[str, Any]],
    encode: Callable[..., bytes],
) -> None:
    prompt = _routed(app, make_case(channel="online"), encode)
    late = _routed(app, make_case(channel="phone"), encode)
    never = _routed(app, make_case(channel="online"), encode)
    _do(app, prompt, Action.ACCEPT)
    _do(app, prompt, Action.REPLY, **REPLY)
    _do(app, prompt, Action.EVALUATE, rating="basically_satisfied")
    clock.advance(timedelta(days=20))  # past the 15 days of Art 23
    _do(app, late, Action.ACCEPT)
    _do(app, late, Action.REPLY, **REPLY)
    _do(app, late, Action.EVALUATE, rating="dissatisfied")

    with app.engine.connect() as conn:
        kpis = compute_kpis(conn, clock())
    # prompt on time; late met late; `never` not accepted and now overdue
    assert (kpis.timely_acceptance.good, kpis.timely_acceptance.total) == (1, 3)
    assert (kpis.on_time_completion.good, kpis.on_time_completion.total) == (2, 2)
    assert (kpis.online_share.good, kpis.online_share.total) == (2, 3)
    assert (kpis.satisfaction.good, kpis.satisfaction.total) == (1, 2)
    assert never


def test_no_data_gives_no_rate(app: App, clock: FixedClock) -> None:
    with app.engine.connect() as conn:
        kpis = compute_kpis(conn, clock())
    assert kpis.timely_acceptance.rate is None and str(kpis.satisfaction) == "—"
