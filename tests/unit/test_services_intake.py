"""IntakeService: register once per (source, external_id), reject with a reason and an event,
never record a dead-lettered redelivery twice, count what happened, leak no identity."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import cases, events, rejected_messages
from dispatcher.bootstrap.app import App
from dispatcher.services.intake import Duplicate, Registered, Rejected

JSON = "application/json"
MakeCase = Callable[..., dict[str, Any]]
Encode = Callable[[dict[str, Any]], bytes]


def count(app: App, table: Any, *where: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def all_events(app: App) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(events).order_by(events.c.id)).mappings()]


def sample(app: App, name: str, **labels: str) -> float:
    return app.metrics.registry.get_sample_value(name, labels) or 0.0


# -- registration and duplicates ---------------------------------------------------------------


def test_a_valid_message_registers_one_case_and_one_registered_event(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    message = make_case(channel="online", external_id="WS1")

    outcome = app.intake.receive(encode(message), JSON, "case.online")

    assert isinstance(outcome, Registered)
    with app.engine.connect() as conn:
        case = store.load_case(conn, outcome.case_id)
        case_events = store.case_events(conn, outcome.case_id)
    assert case is not None
    assert (case.source, case.external_id, case.channel.value, case.stage.value) == (
        "cq-12345",
        "WS1",
        "online",
        "registered",
    )
    assert case.petitioner == message["petitioner"]  # kept with the case, only there
    assert count(app, cases) == 1
    assert [event["type"] for event in case_events] == ["registered"]
    registered = case_events[0]
    assert (registered["source"], registered["external_id"]) == ("cq-12345", "WS1")
    assert registered["at"] == app.clock()
    assert registered["data"]["channel"] == "online"
    assert registered["data"]["region"] == "500103"
    assert registered["published_at"] is None  # waits in the outbox for the relay


def test_the_same_source_and_external_id_again_is_a_duplicate_with_no_new_event(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    message = make_case()
    first = app.intake.receive(encode(message), JSON, "case.phone")
    # A re-send may differ in anything but the key: it is still the same case.
    again = app.intake.receive(encode(message | {"title": "再次反映"}), JSON, "case.phone")

    assert isinstance(first, Registered)
    assert isinstance(again, Duplicate)
    assert again.case_id == first.case_id
    assert count(app, cases) == 1
    assert [event["type"] for event in all_events(app)] == ["registered"]


def test_the_same_external_id_from_another_source_is_another_case(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    first = app.intake.receive(encode(make_case(external_id="X1")), JSON, "case.phone")
    other = app.intake.receive(
        encode(make_case(external_id="X1", source="cq-wsxf")), JSON, "case.phone"
    )

    assert isinstance(first, Registered)
    assert isinstance(other, Registered)
    assert other.case_id != first.case_id
    assert count(app, cases) == 2


def test_a_duplicate_needs_routing_only_while_the_case_is_still_registered(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    body = encode(make_case())
    first = app.intake.receive(body, JSON, "case.phone")
    assert isinstance(first, Registered)

    before = app.intake.receive(body, JSON, "case.phone", redelivered=True)
    app.routing.route(first.case_id)
    after = app.intake.receive(body, JSON, "case.phone", redelivered=True)

    assert before == Duplicate(first.case_id, needs_routing=True)
    assert after == Duplicate(first.case_id, needs_routing=False)


def test_received_at_with_a_lower_case_z_is_registered(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    message = make_case(received_at="2026-05-26T01:30:00z")

    outcome = app.intake.receive(encode(message), JSON, "case.phone")

    assert isinstance(outcome, Registered)
    with app.engine.connect() as conn:
        case = store.load_case(conn, outcome.case_id)
    assert case is not None and case.received_at.utcoffset() is not None


# -- rejection ---------------------------------------------------------------------------------


def test_an_invalid_message_is_rejected_with_code_reason_and_one_rejected_event(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    body = encode(make_case(source="cq-12345", external_id="BAD1", channel="fax"))

    outcome = app.intake.receive(body, JSON, "case.fax")

    assert isinstance(outcome, Rejected)
    assert outcome.code == "channel"
    assert "channel" in outcome.reason and "phone" in outcome.reason  # names the allowed ones
    assert outcome.rejection_id is not None
    assert count(app, cases) == 0
    recorded = all_events(app)
    assert len(recorded) == 1
    event = recorded[0]
    assert event["type"] == "rejected"
    assert event["case_id"] is None
    assert (event["source"], event["external_id"]) == ("cq-12345", "BAD1")
    assert event["data"]["code"] == "channel"
    assert event["data"]["reason"] == outcome.reason
    assert event["data"]["routing_key"] == "case.fax"
    assert count(app, rejected_messages) == 1


def test_a_rejected_event_names_no_source_when_the_body_is_not_json(app: App) -> None:
    outcome = app.intake.receive(b"{not json", JSON, "case.phone")

    assert isinstance(outcome, Rejected)
    assert outcome.code == "json"
    (event,) = all_events(app)
    assert (event["type"], event["source"], event["external_id"]) == ("rejected", None, None)


def test_a_wrong_content_type_is_rejected_before_the_body_is_read(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    outcome = app.intake.receive(encode(make_case()), "text/plain", "case.phone")

    assert isinstance(outcome, Rejected)
    assert outcome.code == "content_type"
    assert count(app, cases) == 0


def test_a_redelivered_copy_of_a_dead_lettered_message_records_nothing_new(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    body = encode(make_case(people_count=0))
    first = app.intake.receive(body, JSON, "case.phone")
    assert isinstance(first, Rejected) and first.rejection_id is not None
    app.intake.mark_dead_lettered(first.rejection_id)

    again = app.intake.receive(body, JSON, "case.phone", redelivered=True)

    assert isinstance(again, Rejected)
    assert again.rejection_id is None  # the consumer must not dead-letter it a second time
    assert (again.code, again.reason) == (first.code, first.reason)
    assert len(all_events(app)) == 1
    assert count(app, rejected_messages) == 1
    assert sample(app, "xinfang_cases_rejected_total", reason="people_count") == 1


def test_a_redelivery_that_was_never_dead_lettered_is_dead_lettered_once_more(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    """A crash between recording and dead-lettering: the redelivery must still reach the
    rejected queue, under the same rejection, without a second rejection or event."""
    body = encode(make_case(people_count=0))
    first = app.intake.receive(body, JSON, "case.phone")

    again = app.intake.receive(body, JSON, "case.phone", redelivered=True)

    assert isinstance(first, Rejected) and isinstance(again, Rejected)
    assert again.rejection_id is not None and again.rejection_id == first.rejection_id
    with app.engine.connect() as conn:
        rejected = conn.scalar(
            select(func.count()).select_from(events).where(events.c.type == "rejected")
        )
    assert rejected == 1


# -- metrics -------------------------------------------------------------------------------


def test_counters_move_with_registrations_duplicates_and_rejections(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    phone = make_case(channel="phone")
    app.intake.receive(encode(phone), JSON, "case.phone")
    app.intake.receive(encode(make_case(channel="online")), JSON, "case.online")
    app.intake.receive(encode(make_case(channel="online")), JSON, "case.online")
    app.intake.receive(encode(phone), JSON, "case.phone")  # duplicate
    app.intake.receive(encode(make_case(region="5001")), JSON, "case.phone")  # bad region
    app.intake.receive(encode(make_case(drop=("title",))), JSON, "case.phone")
    app.intake.receive(encode(make_case(drop=("title",))), JSON, "case.phone")

    assert sample(app, "xinfang_cases_received_total", channel="phone") == 1
    assert sample(app, "xinfang_cases_received_total", channel="online") == 2
    assert sample(app, "xinfang_cases_received_total", channel="letter") == 0
    assert sample(app, "xinfang_cases_duplicate_total", channel="phone") == 1
    assert sample(app, "xinfang_cases_rejected_total", reason="region") == 1
    assert sample(app, "xinfang_cases_rejected_total", reason="missing_title") == 2


# -- no petitioner identity in events ------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {},  # valid: the registered event
        {"people_count": "13804749638"},  # a phone number in the wrong field
        {"petitioner": {"name": "罗平安", "phone": 13804749638}},  # wrong type inside
        {"petitioner": {"name": "罗平安", "mobile": "13804749638"}},  # unknown field inside
        {"petitioner": "罗平安 13804749638"},  # not an object
        {"urgent": "500107198507165221"},
        {"schema": "xinfang.case/v2"},
    ],
    ids=[
        "registered",
        "phone-as-count",
        "phone-as-number",
        "unknown-petitioner-field",
        "petitioner-as-text",
        "id-number-as-flag",
        "other-schema",
    ],
)
def test_events_never_carry_petitioner_identity(
    app: App,
    make_case: MakeCase,
    encode: Encode,
    assert_no_identity: Callable[[Any], None],
    change: dict[str, Any],
) -> None:
    outcome = app.intake.receive(encode(make_case(**change)), JSON, "case.phone")

    assert isinstance(outcome, Registered if not change else Rejected)
    recorded = all_events(app)
    assert len(recorded) == 1
    assert_no_identity(json.dumps(recorded[0]["data"], ensure_ascii=False))
    assert_no_identity([str(value) for value in recorded[0].values()])
    if isinstance(outcome, Rejected):
        assert_no_identity(outcome.reason)


# -- what belongs with a new case is written with it ------------------------------------------


def test_what_is_written_on_opening_a_case_commits_or_fails_with_it(
    app: App, make_case: MakeCase, encode: Encode
) -> None:
    opened: list[str] = []

    def failing(conn: Any, case_id: str) -> None:
        opened.append(case_id)
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        app.intake.receive(encode(make_case()), JSON, "case.phone", on_open=failing)
    assert len(opened) == 1 and count(app, cases) == 0  # neither the case nor what went with it

    kept: list[str] = []
    message = encode(make_case())
    outcome = app.intake.receive(message, JSON, "case.phone", on_open=lambda _c, i: kept.append(i))
    again = app.intake.receive(message, JSON, "case.phone", on_open=lambda _c, i: kept.append(i))
    assert isinstance(outcome, Registered) and isinstance(again, Duplicate)
    assert kept == [outcome.case_id]  # once, for the message that opened the case
