"""dispatcher.domain.case: pure registration and assignment, and the error that names the
case, its stage and the refused action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dispatcher.domain.case import (
    IDENTITY_FIELDS,
    Assignment,
    Case,
    IllegalTransition,
    assign,
    register,
    rejected,
)
from dispatcher.domain.channels import Channel
from dispatcher.domain.events import EventType
from dispatcher.domain.regions import Region
from dispatcher.domain.stages import Stage

NOW = datetime(2026, 5, 26, 2, 0, tzinfo=UTC)
MakeCase = Callable[..., dict[str, Any]]

TO_HOUSING = Assignment(
    outcome=Stage.ASSIGNED,
    org_unit_id="500103:housing",
    org_unit_name="渝中区住房城乡建委",
    org_kind="housing",
    rule_id="category-housing",
    reasons=("category is housing",),
    warnings=(),
    ruleset_version="test-1",
)
TO_TRIAGE = Assignment(
    outcome=Stage.TRIAGE,
    org_unit_id="500103:petition_bureau",
    org_unit_name="渝中区信访办",
    org_kind="petition_bureau",
    rule_id=None,
    reasons=("no rule matched",),
    warnings=("no category",),
    ruleset_version="test-1",
)


def test_register_makes_a_registered_case_from_the_message(make_case: MakeCase) -> None:
    message = make_case(
        channel="visit",
        region="500103002",
        category="labour",
        people_count=7,
        urgent=True,
        extra={"desk": "3"},
        attachments=[{"uri": "s3://a/b.jpg"}],
    )

    case, event = register(message, "case-1", NOW)

    assert case.case_id == "case-1"
    assert (case.source, case.external_id) == (message["source"], message["external_id"])
    assert case.channel is Channel.VISIT
    assert case.region == Region("500103002")
    assert case.received_at == datetime(2026, 5, 26, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert case.received_at.utcoffset() == timedelta(hours=8)
    assert case.registered_at == NOW
    assert case.stage is Stage.REGISTERED
    assert case.assignment is None and case.assigned_at is None
    assert (case.category, case.people_count, case.urgent) == ("labour", 7, True)
    assert case.is_collective
    assert case.extra == {"desk": "3"}
    assert case.attachments == [{"uri": "s3://a/b.jpg"}]
    assert case.petitioner == message["petitioner"]

    assert event.type is EventType.REGISTERED
    assert event.type.routing_key == "case.registered"
    assert (event.at, event.case_id, event.source, event.external_id) == (
        NOW,
        "case-1",
        message["source"],
        message["external_id"],
    )
    assert event.data == {
        "channel": "visit",
        "region": "500103002",
        "category": "labour",
        "received_at": "2026-05-26T09:30:00+08:00",
        "people_count": 7,
        "urgent": True,
    }


def test_register_fills_the_optional_fields_with_their_defaults(make_case: MakeCase) -> None:
    message = make_case(drop=("category", "petitioner", "people_count", "urgent"))

    case, event = register(message, "case-2", NOW)

    assert case.category is None
    assert case.people_count == 1 and not case.is_collective
    assert case.urgent is False
    assert case.petitioner is None
    assert (case.attachments, case.extra) == ([], {})
    assert event.data["category"] is None


def test_register_does_not_share_mutable_defaults_between_cases(make_case: MakeCase) -> None:
    first, _ = register(make_case(drop=("petitioner",)), "a", NOW)
    second, _ = register(make_case(drop=("petitioner",)), "b", NOW)

    first.extra["x"] = 1
    first.attachments.append({"uri": "u"})

    assert (second.extra, second.attachments) == ({}, [])


def test_registered_events_and_facts_carry_no_petitioner_identity(
    make_case: MakeCase, assert_no_identity: Callable[[Any], None]
) -> None:
    case, event = register(make_case(), "case-3", NOW)

    assert_no_identity(event.data)
    facts = case.facts()
    assert_no_identity({key: value for key, value in facts.items() if key != "received_at"})
    assert facts["petitioner_present"] is True
    assert not set(IDENTITY_FIELDS) & set(facts)


def test_facts_say_whether_a_petitioner_is_known(make_case: MakeCase) -> None:
    anonymous, _ = register(make_case(drop=("petitioner",)), "c", NOW)
    empty, _ = register(make_case(petitioner={}), "d", NOW)

    assert anonymous.facts()["petitioner_present"] is False
    assert empty.facts()["petitioner_present"] is False


def test_assign_moves_a_registered_case_to_its_org_unit(make_case: MakeCase) -> None:
    case, _ = register(make_case(), "case-4", NOW)
    later = NOW + timedelta(minutes=10)

    event = assign(case, TO_HOUSING, later)

    assert case.stage is Stage.ASSIGNED
    assert case.assignment == TO_HOUSING
    assert case.assigned_at == later
    assert event.type is EventType.ASSIGNED
    assert (event.at, event.case_id) == (later, "case-4")
    assert event.data["org_unit"] == {
        "id": "500103:housing",
        "name": "渝中区住房城乡建委",
        "kind": "housing",
    }
    assert event.data["rule"] == {
        "id": "category-housing",
        "reasons": ["category is housing"],
        "ruleset_version": "test-1",
    }
    assert event.data["warnings"] == []
    # received 09:30+08:00 (01:30Z), assigned 02:10Z
    assert event.data["dispatch_seconds"] == 40 * 60


def test_assign_to_triage_records_an_assigned_event_with_outcome_triage(
    make_case: MakeCase,
) -> None:
    case, _ = register(make_case(drop=("category",)), "case-5", NOW)

    event = assign(case, TO_TRIAGE, NOW)

    assert case.stage is Stage.TRIAGE
    assert event.type is EventType.ASSIGNED
    assert event.data["outcome"] == "triage"
    assert event.data["rule"]["id"] is None
    assert event.data["warnings"] == ["no category"]


@pytest.mark.parametrize("first", [TO_HOUSING, TO_TRIAGE], ids=["assigned", "triage"])
def test_assigning_a_case_twice_is_an_illegal_transition_naming_case_stage_and_action(
    make_case: MakeCase, first: Assignment
) -> None:
    case, _ = register(make_case(), "case-6", NOW)
    assign(case, first, NOW)

    with pytest.raises(IllegalTransition) as raised:
        assign(case, TO_HOUSING if first is TO_TRIAGE else TO_TRIAGE, NOW + timedelta(hours=1))

    error = raised.value
    assert (error.case_id, error.stage, error.action) == ("case-6", first.outcome, "route")
    assert str(error) == f"case case-6 is {first.outcome.value}: cannot route"
    # The refused decision changed nothing.
    assert case.stage is first.outcome
    assert case.assignment == first
    assert case.assigned_at == NOW


def test_rejected_names_the_message_but_no_case() -> None:
    event = rejected(
        "channel", "channel: must be one of letter, visit", "cq-12345", "X9", "case.fax", NOW
    )

    assert event.type is EventType.REJECTED
    assert event.type.routing_key == "case.rejected"
    assert (event.case_id, event.source, event.external_id, event.at) == (
        None,
        "cq-12345",
        "X9",
        NOW,
    )
    assert event.data == {
        "code": "channel",
        "reason": "channel: must be one of letter, visit",
        "routing_key": "case.fax",
    }


def test_a_case_needs_a_valid_region_and_channel(make_case: MakeCase) -> None:
    with pytest.raises(ValueError, match="500"):
        register(make_case(region="500"), "bad-region", NOW)
    with pytest.raises(ValueError, match="fax"):
        register(make_case(channel="fax"), "bad-channel", NOW)


def test_case_is_a_plain_object_without_io() -> None:
    case = Case(
        case_id="p",
        source="s",
        external_id="e",
        channel=Channel.LETTER,
        received_at=NOW,
        region=Region("500103"),
        title="t",
        content="c",
        registered_at=NOW,
        people_count=2,
    )

    assert case.is_collective
    assert case.facts()["channel"] == "letter"
