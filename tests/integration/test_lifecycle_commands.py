"""A case driven through its statutory lifecycle by commands on RabbitMQ, stored in PostgreSQL:
acceptance, extension, reply, dissatisfied evaluation, review and re-review; illegal and
repeated commands change nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from support import bind_events_queue, drain, publish_raw, queue_depth, valid_cases, wait_for

from dispatcher.app import App, build, make_engine
from dispatcher.db import schema
from dispatcher.roles import ROLES, RunningRoles
from dispatcher.settings import Settings

pytestmark = pytest.mark.integration

REPLY = {"request": "要求处理", "facts": "经调查核实", "reasons": "理由如下",
         "decision": "处理意见", "legal_basis": "《信访工作条例》第三十二条"}


@pytest.fixture
def running(amqp_url: str, pg_url: str) -> Iterator[App]:
    schema.upgrade(make_engine(pg_url))
    bind_events_queue(amqp_url)
    app = build(Settings(broker_url=amqp_url, database_url=pg_url, rules_path=None,
                         directory_path=None, relay_interval_seconds=0.05))
    roles = RunningRoles(app).start(set(ROLES))
    assert roles.wait_ready()
    yield app
    roles.stop()
    app.close()


def send(url: str, case_id: str, action: str, command_id: str | None = None,
         actor: str = "dept-officer", **data: Any) -> str:
    command_id = command_id or str(uuid.uuid4())
    body = {"schema": "xinfang.command/v1", "command_id": command_id, "case_id": case_id,
            "action": action, "actor": actor, "data": data}
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish("xinfang.commands", f"command.{action}",
                          json.dumps(body, ensure_ascii=False).encode(),
                          pika.BasicProperties(content_type="application/json", delivery_mode=2))
    connection.close()
    return command_id


def stage_after(app: App, case_id: str, events: int) -> str:
    wait_for(lambda: len(app.commands.timeline(case_id).events) >= events,
             f"case {case_id} to have {events} events", timeout=60)
    return app.commands.timeline(case_id).case["stage"]


def clocks(app: App, case_id: str) -> dict[str, Any]:
    return {view.name: view for view in app.commands.timeline(case_id).clocks}


def test_full_lifecycle_by_queue(running: App, amqp_url: str) -> None:
    app = running
    case = next(c for c in valid_cases(30, seed=8) if c.get("category") == "housing"
                and len(c["region"]) == 6)
    publish_raw(amqp_url, [(f"case.{case['channel']}", json.dumps(case).encode())])
    wait_for(lambda: _case_id(app, case) is not None, "the case to be registered")
    case_id = _case_id(app, case)
    assert stage_after(app, case_id, 2) == "assigned"

    send(amqp_url, case_id, "accept")
    assert stage_after(app, case_id, 3) == "accepted"
    send(amqp_url, case_id, "extend", days=30, approved_by="局长", reason="涉及多个部门")
    stage_after(app, case_id, 4)
    assert clocks(app, case_id)["handling"].extension_days == 30
    send(amqp_url, case_id, "reply", **REPLY)
    assert stage_after(app, case_id, 5) == "replied"
    send(amqp_url, case_id, "evaluate", actor="petitioner", rating="dissatisfied")
    stage_after(app, case_id, 6)
    send(amqp_url, case_id, "request_review", actor="petitioner", reason="不服")
    assert stage_after(app, case_id, 7) == "under_review"
    review_id = app.commands.timeline(case_id).events[-1]["data"]["linked_case_id"]

    send(amqp_url, review_id, "reply", actor="city-housing", **REPLY)
    assert stage_after(app, review_id, 4) == "replied"
    send(amqp_url, review_id, "request_rereview", actor="petitioner", reason="仍不服")
    assert stage_after(app, review_id, 5) == "under_review"
    rereview_id = app.commands.timeline(review_id).events[-1]["data"]["linked_case_id"]
    send(amqp_url, rereview_id, "reply", actor="city-government", **REPLY)
    assert stage_after(app, rereview_id, 5) == "final"
    wait_for(lambda: app.commands.timeline(case_id).case["stage"] == "final",
             "the original case to become final")

    original = clocks(app, case_id)
    assert original["forwarding"].article.startswith("Art 22")
    assert original["acceptance"].article.startswith("Art 23")
    assert original["handling"].article.startswith("Art 34")
    assert original["handling"].status == "met"
    assert original["review_request"].status == "used"
    assert original["review_request"].article.startswith("Art 35")
    assert clocks(app, review_id)["review"].article.startswith("Art 35")
    assert clocks(app, review_id)["rereview_request"].article.startswith("Art 36")
    assert clocks(app, rereview_id)["rereview"].article.startswith("Art 36")
    assert clocks(app, rereview_id)["rereview"].status == "met"


def test_illegal_invalid_and_repeated_commands(running: App, amqp_url: str) -> None:
    app = running
    case = valid_cases(1, seed=12)[0]
    publish_raw(amqp_url, [(f"case.{case['channel']}", json.dumps(case).encode())])
    wait_for(lambda: _case_id(app, case) is not None, "the case to be registered")
    case_id = _case_id(app, case)
    stage_after(app, case_id, 2)
    before = app.commands.timeline(case_id)

    send(amqp_url, case_id, "reply", **REPLY)  # illegal: not accepted yet
    wait_for(lambda: queue_depth(amqp_url, "xinfang.commands.rejected") == 1,
             "the illegal command to be dead-lettered")
    (properties, _), = drain(amqp_url, "xinfang.commands.rejected")
    assert "cannot reply" in properties.headers["x-xinfang-reason"]
    after = app.commands.timeline(case_id)
    assert after.case["stage"] == before.case["stage"]
    assert [e["type"] for e in after.events[len(before.events):]] == ["command_rejected"]

    publish_raw_command(amqp_url, b'{"schema": "xinfang.command/v1", "action": "fly"}')
    wait_for(lambda: queue_depth(amqp_url, "xinfang.commands.rejected") == 1,
             "the invalid command to be dead-lettered")

    accepted = send(amqp_url, case_id, "accept", command_id="accept-once")
    stage_after(app, case_id, len(after.events) + 1)
    send(amqp_url, case_id, "accept", command_id=accepted)  # redelivered or re-sent: no change
    marker = send(amqp_url, case_id, "hearing_start")
    wait_for(lambda: any(e["type"] == "hearing_started"
                         for e in app.commands.timeline(case_id).events), "the marker command")
    types = [e["type"] for e in app.commands.timeline(case_id).events]
    assert types.count("accepted") == 1 and marker
    published = [json.loads(body)["type"] for _, body in drain(amqp_url, "test.events")]
    assert "case.command_rejected" in published


def publish_raw_command(url: str, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish("xinfang.commands", "command.fly", body,
                          pika.BasicProperties(content_type="application/json"))
    connection.close()


def _case_id(app: App, case: dict[str, Any]) -> str | None:
    from dispatcher.db import store

    with app.engine.connect() as conn:
        found = store.find_case(conn, case["source"], case["external_id"])
    return found[0] if found else None
