"""The real intake consumer and a dramatiq Worker on the in-memory twins: valid messages become
routed cases once, malformed ones are dead-lettered unchanged with their reason, and the
consumer survives them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kombu import Message
from sqlalchemy import func, select
from support import wait_for

from dispatcher.app import App
from dispatcher.db.tables import cases, events
from dispatcher.messaging import topology
from dispatcher.messaging.connection import connect
from dispatcher.messaging.consumer import ReliableConsumer

MakeCase = Callable[..., dict[str, Any]]
Encode = Callable[[dict[str, Any]], bytes]
DEADLINE_SECONDS = 30


def scalar(app: App, query: Any) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(query).scalar())


def rejected_queue_size() -> int:
    with connect(None) as connection:
        queue = topology.REJECTED_QUEUE.bind(connection.default_channel)
        return int(queue.queue_declare(passive=True).message_count)


def take_rejected() -> list[Message]:
    with connect(None) as connection:
        queue = topology.REJECTED_QUEUE.bind(connection.default_channel)
        messages = []
        while (message := queue.get(no_ack=True)) is not None:
            messages.append(message)
        return messages


@pytest.fixture
def running(app: App) -> Iterator[tuple[ReliableConsumer, threading.Thread]]:
    """The intake consumer in a thread and the route workers, stopped afterwards."""
    consumer = app.intake_consumer()
    thread = threading.Thread(target=consumer.run, name="test-intake", daemon=True)
    worker = app.worker()
    worker.start()
    thread.start()
    try:
        assert consumer.ready.wait(DEADLINE_SECONDS), "intake consumer never became ready"
        yield consumer, thread
    finally:
        consumer.stop()
        thread.join(timeout=DEADLINE_SECONDS)
        worker.stop(timeout=DEADLINE_SECONDS * 1000)
    assert not thread.is_alive(), "intake consumer did not stop"


MALFORMED: list[tuple[str, bytes]] = [
    ("json", b'{"schema": "xinfang.case/v1", '),
    ("encoding", b'{"title": "\xff\xfe not utf-8"}'),
    ("missing_title", json.dumps({"schema": "xinfang.case/v1", "source": "cq-12345",
                                  "external_id": "M3", "channel": "phone",
                                  "received_at": "2026-05-26T09:30:00+08:00",
                                  "region": "500103", "content": "无标题"},
                                 ensure_ascii=False).encode("utf-8")),
    ("channel", None),  # filled from make_case below
    ("unknown_field", None),
]


def test_valid_duplicate_and_malformed_messages_through_the_real_consumer(
        app: App, running: tuple[ReliableConsumer, threading.Thread], make_case: MakeCase,
        encode: Encode) -> None:
    _consumer, thread = running
    publisher = app.publisher()
    valid = [make_case(external_id=f"OK{n:02d}", channel=("phone", "online", "letter")[n % 3])
             for n in range(20)]
    malformed = [body for _code, body in MALFORMED if body is not None] + [
        encode(make_case(external_id="M4", channel="fax")),
        encode(make_case(external_id="M5") | {"priority": "high"}),
    ]
    expected_codes = {code for code, _body in MALFORMED}

    for message in valid:
        publisher.publish_body(encode(message), topology.intake_routing_key(message["channel"]))
    for message in valid[:3]:  # the producer re-sends three of them
        publisher.publish_body(encode(message), topology.intake_routing_key(message["channel"]))
    for body in malformed:
        publisher.publish_body(body, "case.phone")

    registry = app.metrics.registry
    wait_for(lambda: rejected_queue_size() == 5, "5 dead-lettered messages")
    wait_for(lambda: sum(registry.get_sample_value("xinfang_cases_duplicate_total",
                                                     {"channel": channel}) or 0
                           for channel in ("phone", "online", "letter")) == 3,
               "3 duplicates")
    wait_for(lambda: scalar(app, select(func.count()).select_from(cases)
                              .where(cases.c.stage != "registered")) == 20,
               "20 routed cases")

    assert thread.is_alive(), "the consumer died of a malformed message"
    assert scalar(app, select(func.count()).select_from(cases)) == 20
    assert scalar(app, select(func.count()).select_from(events)
                  .where(events.c.type == "registered")) == 20
    assert scalar(app, select(func.count()).select_from(events)
                  .where(events.c.type == "rejected")) == 5
    assert scalar(app, select(func.count()).select_from(events)
                  .where(events.c.type == "assigned")) == 20
    # Routing happened exactly once per case, even for the re-sent ones.
    routed = sum(sample.value for metric in registry.collect()
                 if metric.name == "xinfang_cases_routed" for sample in metric.samples
                 if sample.name == "xinfang_cases_routed_total")
    assert routed == 20

    dead = take_rejected()
    assert sorted(message.body for message in dead) == sorted(malformed)  # byte for byte
    codes = set()
    for message in dead:
        headers = message.headers
        assert headers[topology.REASON_HEADER], "empty reason"
        assert headers[topology.REASON_CODE_HEADER]
        assert headers[topology.ROUTING_KEY_HEADER] == "case.phone"
        codes.add(headers[topology.REASON_CODE_HEADER])
    assert codes == expected_codes

    # Still consuming after the malformed ones: one more valid message is registered.
    late = make_case(external_id="LATE")
    publisher.publish_body(encode(late), "case.phone")
    wait_for(lambda: scalar(app, select(func.count()).select_from(cases)) == 21,
               "the late case")
    assert thread.is_alive()


def test_the_rejected_queue_keeps_the_publishers_content_type_and_headers(
        app: App, running: tuple[ReliableConsumer, threading.Thread], make_case: MakeCase,
        encode: Encode) -> None:
    body = encode(make_case(region="12"))
    with connect(None) as connection:
        producer = connection.Producer(exchange=topology.INTAKE_EXCHANGE)
        producer.publish(body, routing_key="case.phone", content_type="application/json",
                         content_encoding="utf-8", headers={"x-trace": "abc"},
                         message_id="m-1")

    wait_for(lambda: rejected_queue_size() == 1, "the dead-lettered message")

    (message,) = take_rejected()
    assert message.body == body
    assert message.content_type == "application/json"
    assert message.properties.get("message_id") == "m-1"
    assert message.headers["x-trace"] == "abc"
    assert message.headers[topology.REASON_CODE_HEADER] == "region"
    assert "region" in message.headers[topology.REASON_HEADER]
