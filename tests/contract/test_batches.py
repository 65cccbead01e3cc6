"""Batches on both twins and real services. A queue full of messages is registered a batch
per transaction and acknowledged after the commit; one message that cannot be stored fails
alone and the rest of its batch is registered; a case that cannot be routed fails alone in its
route batch; `xinfang publish` keeps a thousand messages waiting for their confirms and loses
none."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kombu import Connection
from ports import MEMORY_URL, Outgoing, Ports
from sqlalchemy import select
from support import valid_cases, wait_for

from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import case_links, cases, events, rejected_messages
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.connection import connect
from dispatcher.adapters.messaging.publisher import IN_FLIGHT, CasePublisher, publish_lines
from dispatcher.bootstrap.app import build
from dispatcher.services.intake import Incoming, Registered

REJECTED = "xinfang.intake.rejected"
JSON = "application/json"


def _encoded(case: dict[str, Any]) -> bytes:
    return json.dumps(case, ensure_ascii=False).encode("utf-8")


def _declare(ports: Ports) -> None:
    """The topology, so that messages published before intake starts wait in its queue."""
    with Connection(ports.broker_url or MEMORY_URL) as connection:
        topology.declare_all(connection.default_channel)


def _accounted(ports: Ports) -> int:
    """Messages that opened a case or joined one."""
    return ports.count(cases) + ports.count(case_links)


def _settled(ports: Ports, valid: int, rejected: int) -> bool:
    return (
        _accounted(ports) == valid
        and ports.count(cases, cases.c.stage == "registered") == 0
        and ports.count(rejected_messages, rejected_messages.c.dead_lettered_at.isnot(None))
        == rejected
        and ports.count(events, events.c.published_at.is_(None)) == 0
        and ports.depth("xinfang.intake") == 0
    )


def _batches(app: Any, stage: str) -> tuple[float, float]:
    """(how many batches, how many messages in them) the app has handled at `stage`."""
    labels = {"stage": stage}
    count = app.metrics.registry.get_sample_value("xinfang_batch_size_count", labels)
    total = app.metrics.registry.get_sample_value("xinfang_batch_size_sum", labels)
    return count or 0.0, total or 0.0


def test_a_full_queue_is_taken_in_batches_and_each_message_settled_once(ports: Ports) -> None:
    batch = valid_cases(150, seed=31)
    messages = [Outgoing(_encoded(case), f"case.{case['channel']}") for case in batch]
    for i in range(5):  # malformed ones among them, each to be dead-lettered alone
        messages.insert(i * 30, Outgoing(b"not json %d" % i))
    _declare(ports)
    ports.publish_each(messages)
    assert ports.depth("xinfang.intake") == len(messages)

    with ports.running({"intake", "worker", "relay"}, intake_batch=50) as (app, running):
        wait_for(lambda: _settled(ports, 150, 5), "150 cases settled, 5 dead letters")
        intake_batches, taken = _batches(app, "intake")
        route_batches, routed = _batches(app, "route")
        assert running.status()["intake"] == {"alive": True, "ready": True}

    assert taken == len(messages) and intake_batches < len(messages) / 5
    assert routed == ports.count(cases) and route_batches < routed / 5
    # Every delivery was acknowledged: none came back to the queue when the consumer left.
    assert ports.depth("xinfang.intake") == 0
    assert ports.count(events, events.c.type == "assigned") == ports.count(cases)
    dead = ports.take(REJECTED)
    assert sorted(m.body for m in dead) == sorted(b"not json %d" % i for i in range(5))
    assert {m.headers["x-xinfang-reason-code"] for m in dead} == {"json"}


def test_a_message_that_cannot_be_stored_fails_alone(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses one case of a batch: the batch is registered again one message at
    a time, the others are registered and routed, and that one is dead-lettered after its
    tries as an internal error. The invalid messages of the batch are dead-lettered once."""
    batch = valid_cases(30, seed=32)
    batch[10]["external_id"] = "cannot-be-stored"
    insert_cases = store.insert_cases

    def refusing(conn: Any, new: Any) -> None:
        if any(case.external_id == "cannot-be-stored" for case in new):
            raise ValueError("the database refuses this case")
        insert_cases(conn, new)

    monkeypatch.setattr(store, "insert_cases", refusing)
    _declare(ports)
    messages = [Outgoing(_encoded(case), f"case.{case['channel']}") for case in batch]
    messages[5:5] = [Outgoing(b"not json"), Outgoing(b"[]")]  # invalid ones in the same batch
    ports.publish_each(messages)

    with ports.running({"intake", "worker", "relay"}, intake_batch=50) as (app, _running):
        wait_for(lambda: _settled(ports, 29, 3), "29 cases settled and three dead letters")
        _count, taken = _batches(app, "intake")

    assert taken > len(messages)  # the batch, then its messages one at a time
    assert ports.count(cases, cases.c.external_id == "cannot-be-stored") == 0
    assert ports.count(rejected_messages) == 3  # each recorded once, though handled again
    dead = {message.body: message for message in ports.take(REJECTED)}
    assert set(dead) == {b"not json", b"[]", _encoded(batch[10])}
    refused = dead[_encoded(batch[10])]
    assert refused.headers["x-xinfang-reason-code"] == "internal_error"
    assert "ValueError" in refused.headers["x-xinfang-reason"]


def test_a_case_that_cannot_be_routed_fails_alone_in_its_batch(
    ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build(ports.settings())
    try:
        bodies = [_encoded(case) for case in valid_cases(6, seed=33)]
        outcomes = app.intake.receive_many([Incoming(b, JSON, "case.phone") for b in bodies])
        ids = [o.case_id for o in outcomes if isinstance(o, Registered)]
        assert len(ids) >= 3
        decide = app.routing._decide
        refused = ids[1]

        def failing(facts: Any) -> Any:
            if (facts["title"], facts["received_at"]) == _matter_of(ports, refused):
                raise ValueError("a rule cannot decide this case")
            return decide(facts)

        monkeypatch.setattr(app.routing, "_decide", failing)
        with pytest.raises(ValueError, match="cannot decide"):
            app.routing.route_many(ids)
        assert ports.count(cases, cases.c.stage == "registered") == 1
        assert ports.count(events, events.c.type == "assigned") == len(ids) - 1

        monkeypatch.setattr(app.routing, "_decide", decide)
        again = app.routing.route_many(ids)
        assert [r.changed for r in again] == [i == refused for i in ids]  # type: ignore[union-attr]
        assert ports.count(events, events.c.type == "assigned") == len(ids)
    finally:
        app.close()


def _matter_of(ports: Ports, case_id: str) -> tuple[Any, ...]:
    """What the rules see of a case that names it: its title and the time it came."""
    with ports.engine.connect() as conn:
        query = select(cases.c.title, cases.c.received_at).where(cases.c.case_id == case_id)
        return tuple(conn.execute(query).one())


def test_publish_confirms_many_messages_at_once_and_loses_none(ports: Ports) -> None:
    lines = [json.dumps(case, ensure_ascii=False) for case in valid_cases(2 * IN_FLIGHT + 17)]
    with connect(ports.broker_url, confirm_each=False) as connection:
        report = publish_lines(CasePublisher(connection), lines)
    assert report.ok and report.published == len(lines)
    assert ports.depth("xinfang.intake") == len(lines)


def test_intake_scales_with_consumers_side_by_side_on_one_queue(ports: Ports) -> None:
    batch = valid_cases(120, seed=34)
    _declare(ports)
    ports.publish_each([Outgoing(_encoded(case), f"case.{case['channel']}") for case in batch])
    with ports.running(
        {"intake", "worker", "relay"}, intake_batch=10, intake_prefetch=10, intake_consumers=2
    ) as (app, running):
        assert running.status()["intake-2"] == {"alive": True, "ready": True}
        assert ports.consumers("xinfang.intake") in (None, 2)
        wait_for(lambda: _settled(ports, 120, 0), "120 cases settled by two consumers")
        count, taken = _batches(app, "intake")
    assert taken == len(batch) and count >= len(batch) / 10
    assert ports.count(events, events.c.type == "assigned") == ports.count(cases)
