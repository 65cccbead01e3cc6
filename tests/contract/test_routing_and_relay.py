"""Routing through the dramatiq worker and the outbox relay, on both twins and real services.

Routing: a registered case becomes assigned once; a route message delivered again — re-sent
after the case is assigned, or several at once before it is — changes nothing.

The relay: each unpublished event reaches exchange xinfang.events once, as JSON with the
documented keys, message_id = event_id and routing key = its type, with no petitioner identity;
after a relay restart the events it had not published go out (delivery is at least once: an
event published again keeps its message_id, for subscribers to deduplicate on)."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware
from ports import Ports, Received
from sqlalchemy import select, update
from support import PETITIONER, phone_case, valid_cases, wait_for

from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import cases, events
from dispatcher.adapters.messaging.relay import EVENT_SCHEMA, OutboxRelay
from dispatcher.bootstrap.app import App, build
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered

JSON = "application/json"
KEYS = {"schema", "event_id", "type", "case_id", "source", "external_id", "at", "data"}
SUBSCRIBER = "test.events"
# 2026-05-26 10:00 in Chongqing (UTC+8): half an hour after the cases below were received.
NOW = datetime(2026, 5, 26, 2, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def case_message(**fields: Any) -> bytes:
    """A valid contract-v1 message (a new external_id unless one is given)."""
    message = phone_case(fields.pop("external_id", f"HL20260526{next(_numbers):06d}"), **fields)
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def assert_no_identity(thing: Any) -> None:
    text = thing if isinstance(thing, str) else json.dumps(thing, ensure_ascii=False, default=str)
    for key, value in PETITIONER.items():
        assert value not in text, f"petitioner {key} leaked into {text!r}"


# -- routing ---------------------------------------------------------------------------------


class RoutesDone(Middleware):
    """Counts, by case id, the route messages the worker has finished without an error (a
    message of a batch counts for each of its cases)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: Counter[str] = Counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if message.actor_name == "xinfang.route" and exception is None:
            with self._lock:
                self._done.update(message.args)  # route(case_id) or a batch of them

    def __getitem__(self, case_id: str) -> int:
        with self._lock:
            return self._done[case_id]


def watch_routes(app: App) -> RoutesDone:
    """Added before anything is enqueued: the worker reads the middleware per message."""
    done = RoutesDone()
    app.broker.add_middleware(done)
    return done


def routed_total(app: App) -> float:
    return sum(
        sample.value
        for metric in app.metrics.registry.collect()
        if metric.name == "xinfang_cases_routed"
        for sample in metric.samples
        if sample.name == "xinfang_cases_routed_total"
    )


def case_row(ports: Ports, case_id: str) -> dict[str, Any]:
    with ports.engine.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().one()
    return dict(row)


def test_a_registered_case_is_assigned_once_and_a_route_sent_again_changes_nothing(
    ports: Ports,
) -> None:
    case = valid_cases(1, seed=31)[0]
    with ports.running(roles={"intake", "worker", "relay"}) as (app, _running):
        done = watch_routes(app)
        ports.bind(SUBSCRIBER, passive_exchange=True)
        ports.publish(json.dumps(case, ensure_ascii=False).encode(), f"case.{case['channel']}")
        wait_for(lambda: ports.count(cases, cases.c.stage != "registered") == 1, "the routing")
        with ports.engine.connect() as conn:
            (case_id, _stage) = store.find_case(conn, case["source"], case["external_id"])
        wait_for(lambda: done[case_id] == 1, "the route message to be finished")
        routed = case_row(ports, case_id)

        app.actors.route.send(case_id)  # a redelivery, or the scheduler's re-enqueue
        app.actors.route.send(case_id)
        wait_for(lambda: done[case_id] == 3, "both route messages sent again to be finished")

        assert ports.count(events, events.c.case_id == case_id, events.c.type == "assigned") == 1
        assert case_row(ports, case_id) == routed
        assert routed_total(app) == 1
    published = [json.loads(message.body) for message in ports.take(SUBSCRIBER)]
    (assigned,) = [event for event in published if event["type"] == "case.assigned"]
    assert assigned["case_id"] == case_id
    assert assigned["data"]["org_unit"]["id"] and assigned["data"]["rule"]["id"]
    assert assigned["data"]["org_unit"]["id"] == routed["org_unit_id"]


def test_route_messages_delivered_together_assign_a_case_once(ports: Ports) -> None:
    """Several route messages for one registered case, taken by the worker's threads at once:
    whichever commits first assigns it; the others find it assigned and write nothing."""
    with ports.running(roles={"worker"}, worker_threads=4) as (app, _running):
        done = watch_routes(app)
        outcome = app.intake.receive(case_message(), JSON, "case.phone")  # nothing enqueued
        assert isinstance(outcome, Registered)
        for _ in range(6):
            app.actors.route.send(outcome.case_id)
        wait_for(lambda: done[outcome.case_id] == 6, "six route messages to be finished")

        assert case_row(ports, outcome.case_id)["stage"] == "assigned"
        assert (
            ports.count(events, events.c.case_id == outcome.case_id, events.c.type == "assigned")
            == 1
        )
        assert routed_total(app) == 1


# -- the relay -------------------------------------------------------------------------------


@contextmanager
def relay_app(ports: Ports, clock: FixedClock | None = None) -> Iterator[App]:
    """An app on these ports whose relay the test calls itself (no roles running). Repeat
    linking is off: the cases of case_message() share one petitioner and matter on purpose."""
    app = build(
        ports.settings(repeat_window_days=0, collective_window_days=0),
        clock=clock or FixedClock(NOW),
    )
    try:
        yield app
    finally:
        app.close()


def subscribe(ports: Ports) -> None:
    """A queue bound to xinfang.events with case.#, as any subscriber would bind one; and one
    queue for each type, bound by its exact routing key, to see which key each event had."""
    ports.bind(SUBSCRIBER)
    for kind in ("registered", "assigned", "rejected"):
        ports.bind(f"test.key.{kind}", key=f"case.{kind}")


def routing_keys(ports: Ports) -> dict[str, str]:
    """event_id → the routing key it was published with (of the types subscribe() binds)."""
    keys = {}
    for kind in ("registered", "assigned", "rejected"):
        for message in ports.take(f"test.key.{kind}"):
            keys[json.loads(message.body)["event_id"]] = f"case.{kind}"
    return keys


def event_rows(ports: Ports) -> list[dict[str, Any]]:
    with ports.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(events).order_by(events.c.id)).mappings()]


def three_events(app: App) -> None:
    """registered + assigned for one case, rejected for a bad message (in that order)."""
    outcome = app.intake.receive(case_message(external_id="E1"), JSON, "case.phone")
    assert isinstance(outcome, Registered)
    app.routing.route(outcome.case_id)
    app.intake.receive(case_message(external_id="E2", region="5"), JSON, "case.phone")


def test_each_unpublished_event_is_published_once_as_documented(ports: Ports) -> None:
    clock = FixedClock(NOW)
    with relay_app(ports, clock) as app:
        subscribe(ports)
        three_events(app)
        rows = event_rows(ports)
        clock.advance(timedelta(seconds=3))

        assert app.relay().publish_pending() == 3

        messages = ports.take(SUBSCRIBER)
        keys = routing_keys(ports)
        assert (
            app.metrics.registry.get_sample_value(
                "xinfang_events_published_total", {"type": "registered"}
            )
            == 1
        )
    assert len(messages) == 3
    by_id = {row["event_id"]: row for row in rows}
    bodies = []
    for message in messages:
        body = json.loads(message.body)
        bodies.append(body)
        assert set(body) == KEYS
        assert message.message_id == body["event_id"]
        assert keys[body["event_id"]] == body["type"]  # the routing key
        assert message.content_type == JSON
        row = by_id[body["event_id"]]
        assert body["schema"] == EVENT_SCHEMA
        assert body["type"] == f"case.{row['type']}"
        assert (body["case_id"], body["source"], body["external_id"]) == (
            row["case_id"],
            row["source"],
            row["external_id"],
        )
        assert body["at"] == row["at"].isoformat()
        assert body["data"] == row["data"]
    # In outbox order, each event exactly once.
    assert [body["event_id"] for body in bodies] == [row["event_id"] for row in rows]
    assert [body["type"] for body in bodies] == [
        "case.registered",
        "case.assigned",
        "case.rejected",
    ]
    assert bodies[2]["case_id"] is None and bodies[2]["external_id"] == "E2"
    # Marked published at the relay's time.
    assert {row["published_at"] for row in event_rows(ports)} == {clock()}


def test_a_second_call_publishes_nothing(ports: Ports) -> None:
    with relay_app(ports) as app:
        subscribe(ports)
        three_events(app)
        relay = app.relay()
        relay.publish_pending()
        assert len(ports.take(SUBSCRIBER)) == 3

        assert relay.publish_pending() == 0
        assert app.relay().publish_pending() == 0  # nor does another relay
    assert ports.take(SUBSCRIBER) == []


def test_new_events_after_a_publish_are_published_alone(ports: Ports) -> None:
    with relay_app(ports) as app:
        subscribe(ports)
        relay = app.relay()
        first = app.intake.receive(case_message(), JSON, "case.phone")
        assert isinstance(first, Registered)
        relay.publish_pending()
        ports.take(SUBSCRIBER)

        app.routing.route(first.case_id)

        assert relay.publish_pending() == 1
    (message,) = ports.take(SUBSCRIBER)
    assert json.loads(message.body)["type"] == "case.assigned"


def test_batches_are_bounded_and_drain_publishes_the_rest(ports: Ports) -> None:
    with relay_app(ports) as app:
        subscribe(ports)
        for _ in range(5):
            app.intake.receive(case_message(), JSON, "case.phone")
        relay = OutboxRelay(app.engine, app.connection(), app.clock, app.metrics, batch=2)

        assert relay.publish_pending() == 2
        assert relay.drain() == 3
    assert len(ports.take(SUBSCRIBER)) == 5


def test_nothing_to_publish_publishes_nothing(ports: Ports) -> None:
    with relay_app(ports) as app:
        subscribe(ports)
        assert app.relay().publish_pending() == 0
    assert ports.take(SUBSCRIBER) == []


def test_published_events_carry_no_petitioner_identity(ports: Ports) -> None:
    with relay_app(ports) as app:
        subscribe(ports)
        three_events(app)
        app.relay().publish_pending()

    messages = ports.take(SUBSCRIBER)
    assert messages
    for message in messages:
        assert_no_identity(message.body.decode("utf-8"))
        assert_no_identity(json.loads(message.body))
        assert_no_identity(message.headers)


def _by_event_id(messages: list[Received]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        body = json.loads(message.body)
        assert message.message_id == body["event_id"]
        out.setdefault(body["event_id"], []).append(body)
    return out


def test_after_a_relay_restart_what_it_had_not_published_goes_out(ports: Ports) -> None:
    subscribe(ports)
    with ports.running(roles={"relay"}) as (app, _running):
        for _ in range(3):
            app.intake.receive(case_message(), JSON, "case.phone")
        wait_for(lambda: ports.count(events, events.c.published_at.is_(None)) == 0, "outbox")
    before = {row["event_id"] for row in event_rows(ports)}

    with relay_app(ports) as app:  # while no relay runs
        for _ in range(2):
            outcome = app.intake.receive(case_message(), JSON, "case.phone")
            assert isinstance(outcome, Registered)
            app.routing.route(outcome.case_id)
    # A relay that published this one and stopped before marking it published.
    crashed = sorted(before)[0]
    with ports.engine.begin() as conn:
        conn.execute(update(events).where(events.c.event_id == crashed).values(published_at=None))
    assert ports.count(events, events.c.published_at.is_(None)) == 5

    with ports.running(roles={"relay"}):
        wait_for(lambda: ports.count(events, events.c.published_at.is_(None)) == 0, "outbox")

    received = _by_event_id(ports.take(SUBSCRIBER))
    rows = event_rows(ports)
    assert set(received) == {row["event_id"] for row in rows}  # every event, at least once
    assert len(rows) == 3 + 4
    for row in rows:
        copies = received[row["event_id"]]
        if row["event_id"] != crashed:  # marked published: never sent again
            assert len(copies) == 1, (row["type"], len(copies))
        assert all(copy == copies[0] for copy in copies)  # the same event each time
