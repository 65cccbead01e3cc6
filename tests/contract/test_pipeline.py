"""The whole pipeline on both twins and real services, roles running in-process: valid,
re-sent and malformed messages from a foreign producer, shuffled, go through the intake consumer
and the route workers. Every valid case is registered and routed exactly once, every malformed
message is dead-lettered unchanged with its reason, the consumer lives on, and the events
published carry no petitioner identity."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict

from ports import Ports
from support import assert_no_identity, malformed_bodies, valid_cases, wait_for

from dispatcher.adapters.db.tables import cases, events
from dispatcher.adapters.messaging import topology
from dispatcher.bootstrap.app import App

REJECTED = "xinfang.intake.rejected"
SUBSCRIBER = "test.events"
# Sized to run in well under 15 s on each port (both take ~40 messages a second here).
ORIGINALS, RESENT, MALFORMED_MANY = 120, 15, 20
CHANNELS = ("phone", "online", "visit", "letter", "video")
MISSING_TITLE = {
    "schema": "xinfang.case/v1",
    "source": "cq-12345",
    "external_id": "M3",
    "channel": "phone",
    "received_at": "2026-05-26T09:30:00+08:00",
    "region": "500103",
    "content": "无标题",
}
# Malformed messages whose reason code is known, beside the many of support.malformed_bodies.
CODED: dict[bytes, str] = {
    b'{"schema": "xinfang.case/v1", ': "json",
    b'{"title": "\xff\xfe not utf-8"}': "encoding",
    json.dumps(MISSING_TITLE, ensure_ascii=False).encode("utf-8"): "missing_title",
}


def _encoded(case: dict) -> bytes:
    return json.dumps(case, ensure_ascii=False).encode("utf-8")


def _metric_total(app: App, name: str) -> float:
    return sum(
        sample.value
        for metric in app.metrics.registry.collect()
        if metric.name == name
        for sample in metric.samples
        if sample.name == f"{name}_total"
    )


def _settled(ports: Ports, registered: int, rejected: int) -> bool:
    return (
        ports.count(cases) == registered
        and ports.depth(REJECTED) == rejected
        and ports.depth("xinfang.intake") == 0
        and ports.count(cases, cases.c.stage == "registered") == 0
        and ports.count(events, events.c.published_at.is_(None)) == 0
    )


def test_valid_duplicate_and_malformed_messages_through_the_consumer_and_worker(
    ports: Ports,
) -> None:
    originals = valid_cases(ORIGINALS)
    resent = random.Random(3).sample(originals, RESENT)
    base = originals[0]
    coded = dict(CODED) | {
        _encoded({**base, "external_id": "M4", "channel": "fax"}): "channel",
        _encoded({**base, "external_id": "M5", "priority": "high"}): "unknown_field",
    }
    bad = malformed_bodies(MALFORMED_MANY) + list(coded)
    messages = [(f"case.{c['channel']}", _encoded(c)) for c in originals + resent]
    messages += [("case.phone", body) for body in bad]
    random.Random(4).shuffle(messages)
    by_key: dict[str, list[bytes]] = defaultdict(list)  # shuffled within each routing key
    for key, body in messages:
        by_key[key].append(body)

    with ports.running() as (app, running):
        ports.bind(SUBSCRIBER, passive_exchange=True)  # declared at start-up
        for key, bodies in by_key.items():
            ports.publish_many(bodies, key)
        wait_for(
            lambda: _settled(ports, ORIGINALS, len(bad)),
            f"{ORIGINALS} routed cases, {len(bad)} rejected, outbox empty",
        )
        wait_for(
            lambda: _metric_total(app, "xinfang_cases_duplicate") == RESENT,
            f"{RESENT} duplicates",
        )

        assert running.status()["intake"] == {"alive": True, "ready": True}, (
            "the consumer died of a malformed message"
        )
        assert ports.count(events, events.c.type == "registered") == ORIGINALS
        assert ports.count(events, events.c.type == "rejected") == len(bad)
        assert ports.count(events, events.c.type == "assigned") == ORIGINALS
        # Routing happened exactly once per case, even for the re-sent ones.
        assert _metric_total(app, "xinfang_cases_routed") == ORIGINALS

        dead = ports.take(REJECTED)
        assert sorted(message.body for message in dead) == sorted(bad)  # byte for byte
        codes = {}
        for message in dead:
            headers = message.headers
            assert headers[topology.REASON_HEADER], "empty reason"
            assert headers[topology.REASON_CODE_HEADER]
            assert headers[topology.ROUTING_KEY_HEADER] == "case.phone"
            codes[message.body] = headers[topology.REASON_CODE_HEADER]
        assert {body: codes[body] for body in coded} == coded

        # Still consuming after the malformed ones: one more valid message is registered.
        late = valid_cases(1, seed=5)[0] | {"external_id": "LATE"}
        ports.publish(_encoded(late), f"case.{late['channel']}")
        wait_for(lambda: _settled(ports, ORIGINALS + 1, 0), "the late case")
        assert running.status()["intake"] == {"alive": True, "ready": True}
        assert ports.consumers("xinfang.intake") in (None, 1)

    published = [json.loads(message.body) for message in ports.take(SUBSCRIBER)]
    types = Counter(event["type"] for event in published)
    assert types["case.registered"] == ORIGINALS + 1
    assert types["case.assigned"] == ORIGINALS + 1  # triage is an assignment to the bureau
    outcomes = Counter(e["data"]["outcome"] for e in published if e["type"] == "case.assigned")
    assert outcomes["assigned"] > 0.82 * (ORIGINALS + 1)  # the rest: triage
    assert types["case.rejected"] == len(bad)
    assert len({event["event_id"] for event in published}) == len(published)
    assigned = next(e for e in published if e["type"] == "case.assigned")
    assert {"event_id", "type", "case_id", "source", "external_id", "at", "data"} <= set(assigned)
    assert assigned["data"]["org_unit"]["id"] and assigned["data"]["rule"]["id"]
    assert_no_identity(json.dumps(published, ensure_ascii=False), [*originals, late])


def test_the_rejected_queue_keeps_the_publishers_content_type_and_headers(ports: Ports) -> None:
    body = _encoded(valid_cases(1, seed=6)[0] | {"region": "12"})
    with ports.running(roles={"intake"}):
        ports.publish(
            body,
            "case.phone",
            content_type="application/json",
            content_encoding="utf-8",
            headers={"x-trace": "abc"},
            message_id="m-1",
        )
        wait_for(lambda: ports.depth(REJECTED) == 1, "the dead-lettered message")

    (message,) = ports.take(REJECTED)
    assert message.body == body
    assert message.content_type == "application/json"
    assert message.message_id == "m-1"
    assert message.headers["x-trace"] == "abc"
    assert message.headers[topology.REASON_CODE_HEADER] == "region"
    assert "region" in message.headers[topology.REASON_HEADER]
