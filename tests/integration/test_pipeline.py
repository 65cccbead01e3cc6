"""The whole pipeline against the real RabbitMQ and PostgreSQL, roles running in-process."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from sqlalchemy import func, select
from support import (
    assert_no_identity,
    bind_events_queue,
    drain,
    malformed_bodies,
    publish_raw,
    queue_depth,
    valid_cases,
    wait_for,
)

from dispatcher.app import build, make_engine
from dispatcher.db import schema
from dispatcher.db.tables import cases, events
from dispatcher.roles import ROLES, RunningRoles
from dispatcher.settings import Settings

pytestmark = pytest.mark.integration


def _settings(amqp_url: str, pg_url: str) -> Settings:
    return Settings(broker_url=amqp_url, database_url=pg_url, rules_path=None,
                    directory_path=None, relay_interval_seconds=0.05)


def _count(engine, query) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def test_thousand_messages_with_duplicates_and_malformed(amqp_url: str, pg_url: str) -> None:
    engine = make_engine(pg_url)
    schema.upgrade(engine)
    bind_events_queue(amqp_url)
    app = build(_settings(amqp_url, pg_url))
    running = RunningRoles(app).start(set(ROLES))
    assert running.wait_ready()

    originals = valid_cases(850)
    resent = random.Random(3).sample(originals, 100)
    messages = [(f"case.{c['channel']}", json.dumps(c, ensure_ascii=False).encode())
                for c in originals + resent]
    bad = malformed_bodies(50)
    messages += [("case.phone", body) for body in bad]
    random.Random(4).shuffle(messages)
    try:
        publish_raw(amqp_url, messages)
        wait_for(lambda: _count(engine, select(func.count()).select_from(cases)) == 850
                 and queue_depth(amqp_url, "xinfang.intake.rejected") == 50
                 and queue_depth(amqp_url, "xinfang.intake") == 0
                 and _count(engine, select(func.count()).select_from(cases)
                            .where(cases.c.stage == "registered")) == 0
                 and _count(engine, select(func.count()).select_from(events)
                            .where(events.c.published_at.is_(None))) == 0,
                 "850 routed cases, 50 rejected, outbox empty")
    finally:
        running.stop()
        app.close()

    rejected = drain(amqp_url, "xinfang.intake.rejected")
    assert sorted(body for _, body in rejected) == sorted(bad)  # unchanged, byte for byte
    assert all(p.headers["x-xinfang-reason"] and p.headers["x-xinfang-reason-code"]
               for p, _ in rejected)

    published = [json.loads(body) for _, body in drain(amqp_url, "test.events")]
    types = Counter(event["type"] for event in published)
    assert types["case.registered"] == 850
    assert types["case.assigned"] == 850  # triage is an assignment to the bureau's desk
    assert Counter(e["data"]["outcome"] for e in published
                   if e["type"] == "case.assigned")["assigned"] > 700
    assert types["case.rejected"] == 50
    assert len({event["event_id"] for event in published}) == len(published)
    assigned = next(e for e in published if e["type"] == "case.assigned")
    assert {"event_id", "type", "case_id", "source", "external_id", "at", "data"} <= set(assigned)
    assert assigned["data"]["org_unit"]["id"] and assigned["data"]["rule"]["id"]
    assert_no_identity(json.dumps(published, ensure_ascii=False), originals)
    engine.dispose()


def test_consumer_survives_broker_closing_its_connections(amqp_url: str, amqp_vhost: str,
                                                          pg_url: str) -> None:
    import subprocess

    engine = make_engine(pg_url)
    schema.upgrade(engine)
    app = build(_settings(amqp_url, pg_url))
    running = RunningRoles(app).start(set(ROLES))
    assert running.wait_ready()
    batch = valid_cases(120, seed=11)
    encoded = [(f"case.{c['channel']}", json.dumps(c, ensure_ascii=False).encode())
               for c in batch]
    try:
        publish_raw(amqp_url, encoded[:60])
        wait_for(lambda: _count(engine, select(func.count()).select_from(cases)) >= 10,
                 "the first cases to arrive")
        subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "-p", amqp_vhost,
                        "test: broker restart"], check=True, timeout=60)
        publish_raw(amqp_url, encoded[60:])
        wait_for(lambda: _count(engine, select(func.count()).select_from(cases)
                                .where(cases.c.stage != "registered")) == 120,
                 "all 120 cases routed after the connections were closed")
    finally:
        running.stop()
        app.close()
    assert _count(engine, select(func.count()).select_from(events)
                  .where(events.c.type == "registered")) == 120
    assert _count(engine, select(func.count()).select_from(events)
                  .where(events.c.type == "assigned")) == 120
    engine.dispose()
