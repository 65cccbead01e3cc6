"""OutboxRelay on the memory transport: each unpublished event reaches exchange xinfang.events
once, as JSON with the documented keys, message_id = event_id, and no petitioner identity."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from kombu import Connection, Message, Queue
from sqlalchemy import select

from dispatcher.app import App
from dispatcher.clock import FixedClock
from dispatcher.db.tables import events
from dispatcher.messaging import topology
from dispatcher.messaging.connection import connect
from dispatcher.messaging.relay import EVENT_SCHEMA, OutboxRelay
from dispatcher.services.intake import Registered

MakeCase = Callable[..., dict[str, Any]]
Encode = Callable[[dict[str, Any]], bytes]
KEYS = {"schema", "event_id", "type", "case_id", "source", "external_id", "at", "data"}
SUBSCRIBER = Queue("test.events", topology.EVENTS_EXCHANGE, routing_key="case.#")


@pytest.fixture
def subscriber(app: App) -> Iterator[Connection]:
    """A queue bound to xinfang.events with case.#, as any subscriber would bind one."""
    with connect(None) as connection:
        SUBSCRIBER.bind(connection.default_channel).declare()
        yield connection


def received(connection: Connection) -> list[Message]:
    queue = SUBSCRIBER.bind(connection.default_channel)
    messages = []
    while (message := queue.get(no_ack=True)) is not None:
        messages.append(message)
    return messages


def event_rows(app: App) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(events).order_by(events.c.id)).mappings()]


@pytest.fixture
def three_events(app: App, make_case: MakeCase, encode: Encode) -> None:
    """registered + assigned for one case, rejected for a bad message (in that order)."""
    outcome = app.intake.receive(encode(make_case(external_id="E1")), "application/json",
                                 "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    app.intake.receive(encode(make_case(external_id="E2", region="5")), "application/json",
                       "case.phone")


@pytest.mark.usefixtures("three_events")
def test_each_unpublished_event_is_published_once_as_documented(
        app: App, clock: FixedClock, subscriber: Connection) -> None:
    rows = event_rows(app)
    clock.advance(timedelta(seconds=3))

    assert app.relay().publish_pending() == 3

    messages = received(subscriber)
    assert len(messages) == 3
    by_id = {row["event_id"]: row for row in rows}
    bodies = []
    for message in messages:
        body = json.loads(message.body)
        bodies.append(body)
        assert set(body) == KEYS
        assert message.properties["message_id"] == body["event_id"]
        assert message.delivery_info["routing_key"] == body["type"]
        assert message.content_type == "application/json"
        row = by_id[body["event_id"]]
        assert body["schema"] == EVENT_SCHEMA
        assert body["type"] == f"case.{row['type']}"
        assert (body["case_id"], body["source"], body["external_id"]) == (
            row["case_id"], row["source"], row["external_id"])
        assert body["at"] == row["at"].isoformat()
        assert body["data"] == row["data"]
    # In outbox order, each event exactly once.
    assert [body["event_id"] for body in bodies] == [row["event_id"] for row in rows]
    assert [body["type"] for body in bodies] == ["case.registered", "case.assigned",
                                                 "case.rejected"]
    assert bodies[2]["case_id"] is None and bodies[2]["external_id"] == "E2"
    # Marked published at the relay's time.
    assert {row["published_at"] for row in event_rows(app)} == {clock()}
    assert app.metrics.registry.get_sample_value(
        "xinfang_events_published_total", {"type": "registered"}) == 1


@pytest.mark.usefixtures("three_events")
def test_a_second_call_publishes_nothing(app: App, subscriber: Connection) -> None:
    relay = app.relay()
    relay.publish_pending()
    received(subscriber)

    assert relay.publish_pending() == 0
    assert app.relay().publish_pending() == 0  # nor does another relay
    assert received(subscriber) == []


def test_new_events_after_a_publish_are_published_alone(
        app: App, make_case: MakeCase, encode: Encode, subscriber: Connection) -> None:
    relay = app.relay()
    first = app.intake.receive(encode(make_case()), "application/json", "case.phone")
    assert isinstance(first, Registered)
    relay.publish_pending()
    received(subscriber)

    app.routing.route(first.case_id)

    assert relay.publish_pending() == 1
    (message,) = received(subscriber)
    assert json.loads(message.body)["type"] == "case.assigned"


def test_batches_are_bounded_and_drain_publishes_the_rest(
        app: App, make_case: MakeCase, encode: Encode, subscriber: Connection) -> None:
    for _ in range(5):
        app.intake.receive(encode(make_case()), "application/json", "case.phone")
    relay = OutboxRelay(app.engine, app.connection(), app.clock, app.metrics, batch=2)

    assert relay.publish_pending() == 2
    assert relay.drain() == 3
    assert len(received(subscriber)) == 5


def test_nothing_to_publish_publishes_nothing(app: App, subscriber: Connection) -> None:
    assert app.relay().publish_pending() == 0
    assert received(subscriber) == []


@pytest.mark.usefixtures("three_events")
def test_published_events_carry_no_petitioner_identity(
        app: App, subscriber: Connection, assert_no_identity: Callable[[Any], None]) -> None:
    app.relay().publish_pending()

    messages = received(subscriber)
    assert messages
    for message in messages:
        assert_no_identity(message.body.decode("utf-8"))
        assert_no_identity(json.loads(message.body))
        assert_no_identity(dict(message.headers or {}))
