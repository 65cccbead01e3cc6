"""The relay on RabbitMQ publishes a batch of events and waits once for the broker's confirms.
A batch the broker refuses (a nack: here a bound queue that rejects what it cannot hold) stays
in the outbox and goes out whole once the broker takes it: nothing is marked published that the
broker did not confirm. The memory twin has no confirms to refuse, so this is RabbitMQ's alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from sqlalchemy import func, select
from support import valid_cases

from dispatcher.adapters.db import schema
from dispatcher.adapters.db.tables import events
from dispatcher.adapters.messaging.confirms import NotConfirmed
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.settings import Settings
from dispatcher.services.intake import Incoming

CASES = 250  # more than one relay batch of 200


@pytest.fixture
def app(pg_url: str, amqp_url: str) -> Iterator[App]:
    engine = make_engine(pg_url)
    schema.upgrade(engine)
    engine.dispose()
    built = build(
        Settings(broker_url=amqp_url, database_url=pg_url, rules_path=None, directory_path=None)
    )
    yield built
    built.close()


@pytest.fixture
def channel(amqp_url: str) -> Iterator[Any]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        yield connection.channel()
    finally:
        connection.close()


def _unpublished(app: App) -> int:
    query = select(func.count()).select_from(events).where(events.c.published_at.is_(None))
    with app.engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def test_a_refused_batch_stays_in_the_outbox_until_the_broker_takes_it(
    app: App, channel: Any
) -> None:
    bodies = [json.dumps(c, ensure_ascii=False).encode() for c in valid_cases(CASES, seed=41)]
    app.intake.receive_many([Incoming(body, "application/json", "case.phone") for body in bodies])
    stored = _unpublished(app)  # an event per case registered or joined
    assert stored == CASES
    relay = app.relay()
    relay.declare()
    channel.queue_declare("test.events", durable=True)
    channel.queue_bind("test.events", "xinfang.events", routing_key="case.#")
    channel.queue_declare(
        "test.full", arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
    )
    channel.queue_bind("test.full", "xinfang.events", routing_key="case.#")

    with pytest.raises(NotConfirmed, match="refused"):
        relay.publish_pending()
    assert _unpublished(app) == stored

    channel.queue_delete("test.full")
    assert relay.drain() == stored
    assert _unpublished(app) == 0
    received = []
    while (got := channel.basic_get("test.events", auto_ack=True))[0] is not None:
        received.append(got[1].message_id)
    with app.engine.connect() as conn:
        ids = set(conn.scalars(select(events.c.event_id)))
    assert set(received) == ids  # every event, the refused batch's perhaps twice
    count, published = (
        app.metrics.registry.get_sample_value(f"xinfang_batch_size_{kind}", {"stage": "relay"})
        for kind in ("count", "sum")
    )
    assert published == stored and count == -(-stored // app.settings.relay_batch)
