"""RoutingService: a registered case is routed once, with the rule and its reasons stored; a
vague case goes to the district petition bureau's triage; an unknown id is an error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dispatcher.adapters.db import store
from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.errors import CaseNotFound
from dispatcher.domain.stages import Stage
from dispatcher.services.intake import Registered
from dispatcher.services.routing import Routed

MakeCase = Callable[..., dict[str, Any]]
Encode = Callable[[dict[str, Any]], bytes]


@pytest.fixture
def register(app: App, encode: Encode) -> Callable[[dict[str, Any]], str]:
    def registered(message: dict[str, Any]) -> str:
        outcome = app.intake.receive(
            encode(message), "application/json", f"case.{message['channel']}"
        )
        assert isinstance(outcome, Registered), outcome
        return outcome.case_id

    return registered


def history(app: App, case_id: str) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        return store.case_events(conn, case_id)


def test_routing_a_registered_case_assigns_it_and_stores_the_decision(
    app: App, clock: FixedClock, make_case: MakeCase, register: Callable[[dict[str, Any]], str]
) -> None:
    case_id = register(
        make_case(
            category="housing",
            region="500103",
            title="物业长期不作为",
            content="小区门禁坏了半年没人修。",
        )
    )
    clock.advance(timedelta(minutes=5))

    routed = app.routing.route(case_id)

    assert routed.changed is True
    assert routed.stage is Stage.ASSIGNED
    assert routed.org_unit_id == "500103:housing"
    assert routed.rule_id is not None
    with app.engine.connect() as conn:
        case = store.load_case(conn, case_id)
    assert case is not None and case.assignment is not None
    assert case.stage is Stage.ASSIGNED
    assert case.assigned_at == clock()
    assert case.assignment.org_unit_id == "500103:housing"
    assert case.assignment.org_kind == "housing"
    assert case.assignment.org_unit_name  # a name people can read
    assert case.assignment.rule_id == routed.rule_id
    assert case.assignment.reasons  # why the rule matched, kept for the audit trail
    assert case.assignment.ruleset_version == app.decider.ruleset.version

    events = history(app, case_id)
    assert [event["type"] for event in events] == ["registered", "assigned"]
    assigned = events[1]
    assert assigned["at"] == clock()
    assert assigned["data"]["org_unit"]["id"] == "500103:housing"
    assert assigned["data"]["rule"]["id"] == routed.rule_id
    assert assigned["data"]["rule"]["reasons"] == list(case.assignment.reasons)
    # received 09:30+08:00 = 01:30Z, routed at 02:05Z
    assert assigned["data"]["dispatch_seconds"] == 35 * 60


def test_routing_counts_the_decision_and_the_dispatch_latency(
    app: App, make_case: MakeCase, register: Callable[[dict[str, Any]], str]
) -> None:
    app.routing.route(register(make_case(channel="letter")))

    registry = app.metrics.registry
    assert (
        registry.get_sample_value(
            "xinfang_cases_routed_total",
            {"outcome": "assigned", "org_kind": "housing", "district": "500103"},
        )
        == 1
    )
    assert (
        registry.get_sample_value("xinfang_dispatch_latency_seconds_count", {"channel": "letter"})
        == 1
    )
    assert (
        registry.get_sample_value("xinfang_dispatch_latency_seconds_sum", {"channel": "letter"})
        == 30 * 60
    )


def test_routing_again_changes_nothing(
    app: App, clock: FixedClock, make_case: MakeCase, register: Callable[[dict[str, Any]], str]
) -> None:
    case_id = register(make_case())
    first = app.routing.route(case_id)
    with app.engine.connect() as conn:
        before = store.load_case(conn, case_id)
    clock.advance(timedelta(hours=1))

    again = app.routing.route(case_id)

    assert again == Routed(
        first.case_id, first.stage, first.org_unit_id, first.rule_id, changed=False
    )
    with app.engine.connect() as conn:
        after = store.load_case(conn, case_id)
    assert after == before  # assigned_at not moved
    assert [event["type"] for event in history(app, case_id)] == ["registered", "assigned"]
    assert (
        app.metrics.registry.get_sample_value(
            "xinfang_cases_routed_total",
            {"outcome": "assigned", "org_kind": "housing", "district": "500103"},
        )
        == 1
    )


def test_a_vague_case_goes_to_triage_at_the_district_petition_bureau(
    app: App, make_case: MakeCase, register: Callable[[dict[str, Any]], str]
) -> None:
    case_id = register(
        make_case(region="500103", title="感谢信", content="感谢工作人员。", drop=("category",))
    )

    routed = app.routing.route(case_id)

    assert routed.changed is True
    assert routed.stage is Stage.TRIAGE
    assert routed.org_unit_id == "500103:petition_bureau"
    with app.engine.connect() as conn:
        case = store.load_case(conn, case_id)
    assert case is not None and case.stage is Stage.TRIAGE
    assert case.assignment is not None and case.assignment.org_kind == "petition_bureau"
    events = history(app, case_id)
    assert [event["type"] for event in events] == ["registered", "assigned"]
    assert events[-1]["data"]["outcome"] == "triage"
    assert events[1]["data"]["org_unit"]["id"] == "500103:petition_bureau"
    # Triage is not an assignment: no dispatch latency is observed for it.
    assert app.metrics.registry.get_sample_value(
        "xinfang_dispatch_latency_seconds_count", {"channel": "phone"}
    ) in (None, 0)


def test_a_triaged_case_is_not_routed_again(
    app: App, make_case: MakeCase, register: Callable[[dict[str, Any]], str]
) -> None:
    case_id = register(make_case(title="感谢信", content="感谢工作人员。", drop=("category",)))
    app.routing.route(case_id)

    again = app.routing.route(case_id)

    assert (again.changed, again.stage) == (False, Stage.TRIAGE)
    assert [event["type"] for event in history(app, case_id)] == ["registered", "assigned"]


def test_an_unknown_case_id_raises_case_not_found_naming_it(app: App) -> None:
    with pytest.raises(CaseNotFound, match="no-such-case"):
        app.routing.route("no-such-case")


def test_routing_events_carry_no_petitioner_identity(
    app: App,
    make_case: MakeCase,
    register: Callable[[dict[str, Any]], str],
    assert_no_identity: Callable[[Any], None],
) -> None:
    case_id = register(make_case())
    app.routing.route(case_id)

    for event in history(app, case_id):
        assert_no_identity(event["data"])
