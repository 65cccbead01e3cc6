"""Intake on both twins and real services: valid, re-sent and malformed messages, as foreign
producers send them (bytes with or without a content encoding, empty bodies, odd properties).
After all of it the consumer still consumes, every valid case is routed once, and every
invalid message is in the rejected queue unchanged with its reason."""

from __future__ import annotations

import json
from collections import Counter

from ports import Ports
from support import valid_cases, wait_for

from contract.malformed import MALFORMED
from dispatcher.adapters.db.tables import cases, events, rejected_messages

REJECTED = "xinfang.intake.rejected"


def _encoded(case: dict) -> bytes:
    return json.dumps(case, ensure_ascii=False).encode("utf-8")


def _settled(ports: Ports, registered: int, rejected: int) -> bool:
    return (
        ports.count(cases) == registered
        and ports.count(cases, cases.c.stage == "registered") == 0
        and ports.count(rejected_messages, rejected_messages.c.dead_lettered_at.isnot(None))
        == rejected
        and ports.count(events, events.c.published_at.is_(None)) == 0
        and ports.depth("xinfang.intake") == 0
    )


def test_valid_and_re_sent_cases_are_registered_and_routed_once(ports: Ports) -> None:
    batch = valid_cases(40, seed=21)
    with ports.running() as (_app, running):
        ports.bind("test.events", passive_exchange=True)  # declared at start-up
        for case in batch + batch[:10]:
            ports.publish(_encoded(case), f"case.{case['channel']}")
        wait_for(lambda: _settled(ports, 40, 0), "40 cases routed, outbox empty")
        assert all(state["ready"] for state in running.status().values())
    published = [json.loads(message.body) for message in ports.take("test.events")]
    types = Counter(event["type"] for event in published)
    assert types["case.registered"] == 40 and types["case.assigned"] == 40
    assert ports.count(events, events.c.type == "assigned") == 40
    assert len({event["event_id"] for event in published}) == len(published)


def test_a_content_encoding_does_not_change_what_is_read(ports: Ports) -> None:
    """py-amqp hands a consumer a str when the producer names a content encoding, as
    `xinfang publish` does: the case is registered all the same, and the next one too."""
    first, second = valid_cases(2, seed=22)
    with ports.running():
        ports.publish(_encoded(first), content_encoding="utf-8")
        ports.publish(_encoded(second), content_encoding="UTF-8")
        wait_for(lambda: _settled(ports, 2, 0), "both cases routed")


def test_every_malformed_kind_is_dead_lettered_unchanged_and_intake_lives_on(ports: Ports) -> None:
    after = valid_cases(1, seed=23)[0]
    with ports.running() as (_app, running):
        for bad in MALFORMED:
            ports.publish(
                bad.body,
                bad.routing_key,
                content_type=bad.content_type,
                content_encoding=bad.content_encoding,
                headers=bad.headers,
            )
        ports.publish(_encoded(after))
        wait_for(
            lambda: _settled(ports, 1, len(MALFORMED)),
            f"{len(MALFORMED)} dead letters and the case after them",
        )
        assert running.status()["intake"] == {"alive": True, "ready": True}
        assert ports.consumers("xinfang.intake") in (None, 1)
    dead = ports.take(REJECTED)
    assert sorted(message.body for message in dead) == sorted(bad.body for bad in MALFORMED)
    codes = {message.body: message.headers["x-xinfang-reason-code"] for message in dead}
    assert {bad.kind: codes[bad.body] for bad in MALFORMED} == {
        bad.kind: bad.code for bad in MALFORMED
    }
    assert all(message.headers["x-xinfang-reason"] for message in dead)
    assert ports.count(events, events.c.type == "rejected") == len(MALFORMED)


def test_a_subscriber_can_bind_before_the_first_event(ports: Ports) -> None:
    with ports.running(roles={"relay"}):
        ports.bind("early.subscriber", passive_exchange=True)
    assert ports.take("early.subscriber") == []
