"""The statutory lifecycle through the service, on SQLite and a fixed clock that moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.decisions import Action, Command
from dispatcher.domain.stages import Stage
from dispatcher.services.intake import Registered
from dispatcher.services.lifecycle import Applied, Refused

REPLY = {
    "request": "要求协调加装电梯",
    "facts": "经查，业主意见不一致",
    "reasons": "依据相关规定",
    "decision": "由街道组织协商",
    "legal_basis": "《民法典》第二百七十八条",
}


@pytest.fixture
def case_id(
    app: App, make_case: Callable[..., dict[str, Any]], encode: Callable[[dict[str, Any]], bytes]
) -> str:
    outcome = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    return outcome.case_id


def act(
    app: App, case_id: str, action: Action, command_id: str | None = None, **data: Any
) -> Applied | Refused:
    return app.commands.handle(Command(action, case_id, "tester", data=data), command_id)


def clock_of(app: App, case_id: str, name: str) -> Any:
    return next(view for view in app.commands.timeline(case_id).clocks if view.name == name)


def test_accept_extend_reply_dissatisfied_review_rereview_final(
    app: App, clock: FixedClock, case_id: str
) -> None:
    assert clock_of(app, case_id, "forwarding").status == "met"
    assert clock_of(app, case_id, "acceptance").status == "running"
    assert isinstance(act(app, case_id, Action.ACCEPT), Applied)
    handling_due = clock_of(app, case_id, "handling").due_at
    extended = act(app, case_id, Action.EXTEND, days=30, approved_by="主任", reason="情况复杂")
    assert isinstance(extended, Applied)
    assert clock_of(app, case_id, "handling").due_at > handling_due
    clock.advance(timedelta(days=20))
    assert act(app, case_id, Action.REPLY, **REPLY).stage is Stage.REPLIED
    assert clock_of(app, case_id, "handling").status == "met"
    assert act(app, case_id, Action.EVALUATE, rating="dissatisfied").stage is Stage.REPLIED

    review = act(app, case_id, Action.REQUEST_REVIEW, reason="不服处理意见")
    assert isinstance(review, Applied) and review.linked_case_id
    review_case = app.commands.timeline(review.linked_case_id)
    assert review_case.case["kind"] == "review"
    assert review_case.case["org_unit_id"] == "500000:housing"  # the next-higher body
    assert clock_of(app, review.linked_case_id, "review").status == "running"
    assert clock_of(app, review.linked_case_id, "review").article.startswith("Art 35")

    clock.advance(timedelta(days=10))
    act(app, review.linked_case_id, Action.REPLY, **REPLY)
    rereview = act(app, review.linked_case_id, Action.REQUEST_REREVIEW, reason="仍不服")
    assert isinstance(rereview, Applied) and rereview.linked_case_id
    final_id = rereview.linked_case_id
    act(app, final_id, Action.HEARING_START)
    paused = clock_of(app, final_id, "rereview")
    assert paused.status == "paused" and paused.due_at is None
    clock.advance(timedelta(days=7))
    act(app, final_id, Action.HEARING_END)
    resumed = clock_of(app, final_id, "rereview")
    assert resumed.due_at is not None and resumed.status == "running"
    assert act(app, final_id, Action.REPLY, **REPLY).stage is Stage.FINAL

    for case in (case_id, review.linked_case_id, final_id):
        assert app.commands.timeline(case).case["stage"] == "final"
    again = act(app, case_id, Action.REQUEST_REVIEW, reason="同一事实")
    assert isinstance(again, Refused) and final_id in again.reason


def test_an_illegal_command_is_refused_names_case_stage_action_and_changes_nothing(
    app: App, case_id: str
) -> None:
    before = app.commands.timeline(case_id)
    refused = act(app, case_id, Action.REPLY, **REPLY)
    assert isinstance(refused, Refused)
    assert case_id in refused.reason and "assigned" in refused.reason and "reply" in refused.reason
    after = app.commands.timeline(case_id)
    assert after.case["stage"] == before.case["stage"] == "assigned"
    new = [e["type"] for e in after.events[len(before.events) :]]
    assert new == ["command_rejected"]


def test_a_repeated_command_id_changes_nothing(app: App, case_id: str) -> None:
    first = act(app, case_id, Action.ACCEPT, command_id="cmd-1")
    events = len(app.commands.timeline(case_id).events)
    second = act(app, case_id, Action.ACCEPT, command_id="cmd-1")
    assert isinstance(first, Applied) and not first.repeated
    assert isinstance(second, Applied) and second.repeated
    assert len(app.commands.timeline(case_id).events) == events


def test_objection_after_five_working_days_is_refused(
    app: App, clock: FixedClock, case_id: str
) -> None:
    clock.advance(timedelta(days=10))  # 2026-05-26 + 10 days is past 5 working days
    refused = act(app, case_id, Action.OBJECT, reason="不属于本部门职责")
    assert isinstance(refused, Refused) and "objection period ended" in refused.reason


def test_objection_returns_case_then_reroute_assigns_another_unit(app: App, case_id: str) -> None:
    assert act(app, case_id, Action.OBJECT, reason="属于规划部门").stage is Stage.OBJECTED
    unit = {"id": "500103:land", "name": "渝中区规划和自然资源局", "kind": "land"}
    rerouted = act(app, case_id, Action.REROUTE, org_unit=unit, reason="同意异议")
    assert isinstance(rerouted, Applied) and rerouted.stage is Stage.ASSIGNED
    assert app.commands.timeline(case_id).case["org_unit_id"] == "500103:land"
    assert clock_of(app, case_id, "objection").status == "open"  # the new body's own window


def test_confirmed_assignment_cannot_be_objected_again(app: App, case_id: str) -> None:
    act(app, case_id, Action.OBJECT, reason="不属于本部门")
    assert act(app, case_id, Action.CONFIRM, reason="属于住建职责").stage is Stage.ASSIGNED
    assert isinstance(act(app, case_id, Action.OBJECT, reason="再次异议"), Refused)


def test_not_accepted_with_diversion_names_where_to_go(app: App, case_id: str) -> None:
    outcome = act(app, case_id, Action.REJECT, reason="属于劳动争议", divert_to="arbitration")
    assert isinstance(outcome, Applied) and outcome.stage is Stage.NOT_ACCEPTED
    event = app.commands.timeline(case_id).events[-1]
    assert event["data"]["divert_to"] == "arbitration" and "仲裁" in event["data"]["notice"]


@pytest.mark.parametrize("days", [0, 31, "30", True])
def test_extension_outside_the_statute_is_refused(app: App, case_id: str, days: Any) -> None:
    act(app, case_id, Action.ACCEPT)
    refused = act(app, case_id, Action.EXTEND, days=days, approved_by="主任", reason="复杂")
    assert isinstance(refused, Refused) and "days" in refused.reason


def test_a_second_extension_is_refused(app: App, case_id: str) -> None:
    act(app, case_id, Action.ACCEPT)
    act(app, case_id, Action.EXTEND, days=10, approved_by="主任", reason="复杂")
    refused = act(app, case_id, Action.EXTEND, days=10, approved_by="主任", reason="仍复杂")
    assert isinstance(refused, Refused) and "Art 34" in refused.reason


def test_satisfied_evaluation_closes_the_case(app: App, case_id: str) -> None:
    act(app, case_id, Action.ACCEPT)
    act(app, case_id, Action.REPLY, **REPLY)
    assert act(app, case_id, Action.EVALUATE, rating="satisfied").stage is Stage.CLOSED


def test_reply_needs_every_part_of_article_32(app: App, case_id: str) -> None:
    act(app, case_id, Action.ACCEPT)
    refused = act(app, case_id, Action.REPLY, **{**REPLY, "legal_basis": " "})
    assert isinstance(refused, Refused) and "legal_basis" in refused.reason


def test_unknown_case_is_refused(app: App) -> None:
    refused = act(app, "no-such-case", Action.ACCEPT)
    assert isinstance(refused, Refused) and "does not exist" in refused.reason


def test_clock_rows_follow_the_events(app: App, case_id: str) -> None:
    from sqlalchemy import select

    from dispatcher.adapters.db.tables import clocks

    act(app, case_id, Action.ACCEPT)
    with app.engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(clocks).where(clocks.c.case_id == case_id))}
    assert rows["handling"].status == "running" and rows["handling"].met_at is None
    assert rows["acceptance"].status == "met" and rows["acceptance"].met_at is not None
    assert rows["handling"].due_at == clock_of(app, case_id, "handling").due_at


def test_a_refused_review_request_opens_no_case(app: App, clock: FixedClock, case_id: str) -> None:
    from sqlalchemy import func, select

    from dispatcher.adapters.db.tables import cases

    act(app, case_id, Action.ACCEPT)
    act(app, case_id, Action.REPLY, **REPLY)
    clock.advance(timedelta(days=45))  # past the 30 days of Art 35
    refused = act(app, case_id, Action.REQUEST_REVIEW, reason="太晚了")
    assert isinstance(refused, Refused) and "review_request period ended" in refused.reason
    wrong_kind = act(app, case_id, Action.REQUEST_REREVIEW, reason="越级")
    assert isinstance(wrong_kind, Refused)
    with app.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(cases)) == 1


def test_satisfaction_with_a_review_closes_the_original_too(app: App, case_id: str) -> None:
    act(app, case_id, Action.ACCEPT)
    act(app, case_id, Action.REPLY, **REPLY)
    review = act(app, case_id, Action.REQUEST_REVIEW)
    assert isinstance(review, Applied) and review.linked_case_id
    act(app, review.linked_case_id, Action.REPLY, **REPLY)
    closed = act(app, review.linked_case_id, Action.EVALUATE, rating="satisfied")
    assert closed.stage is Stage.CLOSED
    assert app.commands.timeline(case_id).case["stage"] == "closed"
    window = clock_of(app, case_id, "review_request")
    assert window.status == "used"
    assert clock_of(app, review.linked_case_id, "rereview_request").status == "closed"


def test_a_repeated_command_reports_the_case_as_it_is(app: App, case_id: str) -> None:
    act(app, case_id, Action.ACCEPT, command_id="k-1")
    again = act(app, case_id, Action.ACCEPT, command_id="k-1")
    assert isinstance(again, Applied) and again.repeated and again.stage is Stage.ACCEPTED
    misuse = act(app, case_id, Action.HEARING_START, command_id="k-1")
    assert isinstance(misuse, Refused) and "already used for accept" in misuse.reason
    assert not any(e["type"] == "hearing_started" for e in app.commands.timeline(case_id).events)


def test_a_back_dated_command_cannot_slip_into_an_ended_period(
    app: App, clock: FixedClock, case_id: str
) -> None:
    clock.advance(timedelta(days=30))
    act(app, case_id, Action.ACCEPT)  # an event today
    early = clock() - timedelta(days=29)
    refused = app.commands.handle(Command(Action.HEARING_START, case_id, "t", at=early))
    assert isinstance(refused, Refused) and "before the case's last event" in refused.reason


@pytest.mark.parametrize("note", [["a"], {"x": 1}, 7, "长" * 10_001])
def test_free_text_must_be_text_of_bounded_length(app: App, case_id: str, note: Any) -> None:
    refused = act(app, case_id, Action.ACCEPT, note=note)
    assert isinstance(refused, Refused) and "'note' must be text" in refused.reason


def test_rules_and_lifecycle_know_the_same_legal_channels() -> None:
    from typing import get_args

    from dispatcher.domain.decisions import Diversion
    from rules.model import DivertChannel

    assert set(get_args(DivertChannel)) == {d.value for d in Diversion}
