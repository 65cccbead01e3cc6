"""Department commands on both twins and real services, as a department's system sends them to
exchange xinfang.commands (routing key command.<action>, schema xinfang.command/v1): a case
driven through its statutory lifecycle — acceptance, extension, reply, dissatisfied evaluation,
review and re-review — and illegal, invalid and repeated commands, which change nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ports import Ports
from support import valid_cases, wait_for

from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import events
from dispatcher.bootstrap.app import App

COMMANDS = "xinfang.commands"
REJECTED = "xinfang.commands.rejected"
REPLY = {
    "request": "要求处理",
    "facts": "经调查核实",
    "reasons": "理由如下",
    "decision": "处理意见",
    "legal_basis": "《信访工作条例》第三十二条",
}


def send(
    ports: Ports,
    case_id: str,
    action: str,
    command_id: str | None = None,
    actor: str = "dept-officer",
    **data: Any,
) -> str:
    command_id = command_id or str(uuid.uuid4())
    body = {
        "schema": "xinfang.command/v1",
        "command_id": command_id,
        "case_id": case_id,
        "action": action,
        "actor": actor,
        "data": data,
    }
    ports.publish(
        json.dumps(body, ensure_ascii=False).encode(),
        routing_key=f"command.{action}",
        exchange=COMMANDS,
    )
    return command_id


def register(ports: Ports, app: App, case: dict[str, Any]) -> str:
    """Publish a case to intake as its channel would; its case id once it is routed."""
    ports.publish(json.dumps(case, ensure_ascii=False).encode(), f"case.{case['channel']}")
    wait_for(lambda: _case_id(app, case) is not None, "the case to be registered")
    case_id = _case_id(app, case)
    assert case_id is not None
    return case_id


def stage_after(app: App, case_id: str, events: int) -> str:
    wait_for(
        lambda: len(app.commands.timeline(case_id).events) >= events,
        f"case {case_id} to have {events} events",
        timeout=60,
    )
    return app.commands.timeline(case_id).case["stage"]


def clocks(app: App, case_id: str) -> dict[str, Any]:
    return {view.name: view for view in app.commands.timeline(case_id).clocks}


def _case_id(app: App, case: dict[str, Any]) -> str | None:
    with app.engine.connect() as conn:
        found = store.find_case(conn, case["source"], case["external_id"])
    return found[0] if found else None


def test_full_lifecycle_by_queue(ports: Ports) -> None:
    case = next(
        c
        for c in valid_cases(30, seed=8)
        if c.get("category") == "housing" and len(c["region"]) == 6
    )
    with ports.running() as (app, _running):
        case_id = register(ports, app, case)
        assert stage_after(app, case_id, 2) == "assigned"

        send(ports, case_id, "accept")
        assert stage_after(app, case_id, 3) == "accepted"
        send(ports, case_id, "extend", days=30, approved_by="局长", reason="涉及多个部门")
        stage_after(app, case_id, 4)
        assert clocks(app, case_id)["handling"].extension_days == 30
        send(ports, case_id, "reply", **REPLY)
        assert stage_after(app, case_id, 5) == "replied"
        send(ports, case_id, "evaluate", actor="petitioner", rating="dissatisfied")
        stage_after(app, case_id, 6)
        send(ports, case_id, "request_review", actor="petitioner", reason="不服")
        assert stage_after(app, case_id, 7) == "under_review"
        review_id = app.commands.timeline(case_id).events[-1]["data"]["linked_case_id"]

        send(ports, review_id, "reply", actor="city-housing", **REPLY)
        assert stage_after(app, review_id, 4) == "replied"
        send(ports, review_id, "request_rereview", actor="petitioner", reason="仍不服")
        assert stage_after(app, review_id, 5) == "under_review"
        rereview_id = app.commands.timeline(review_id).events[-1]["data"]["linked_case_id"]
        send(ports, rereview_id, "reply", actor="city-government", **REPLY)
        assert stage_after(app, rereview_id, 5) == "final"
        wait_for(
            lambda: app.commands.timeline(case_id).case["stage"] == "final",
            "the original case to become final",
        )

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
    assert ports.depth(REJECTED) == 0  # not one of them was refused


def test_illegal_invalid_and_repeated_commands(ports: Ports) -> None:
    case = valid_cases(1, seed=12)[0]
    with ports.running() as (app, _running):
        ports.bind("test.events", passive_exchange=True)  # declared at start-up
        case_id = register(ports, app, case)
        stage_after(app, case_id, 2)
        before = app.commands.timeline(case_id)

        refused = send(ports, case_id, "reply", **REPLY)  # illegal: not accepted yet
        wait_for(lambda: ports.depth(REJECTED) == 1, "the illegal command to be dead-lettered")
        (illegal,) = ports.take(REJECTED)
        assert "cannot reply" in illegal.headers["x-xinfang-reason"]
        after = app.commands.timeline(case_id)
        assert after.case["stage"] == before.case["stage"]
        assert [e["type"] for e in after.events[len(before.events) :]] == ["command_rejected"]

        invalid = b'{"schema": "xinfang.command/v1", "action": "fly"}'
        ports.publish(invalid, routing_key="command.fly", exchange=COMMANDS)
        wait_for(lambda: ports.depth(REJECTED) == 1, "the invalid command to be dead-lettered")
        (dead,) = ports.take(REJECTED)
        assert dead.body == invalid  # unchanged
        assert dead.headers["x-xinfang-reason"] and dead.headers["x-xinfang-reason-code"]

        accepted = send(ports, case_id, "accept", command_id="accept-once")
        stage_after(app, case_id, len(after.events) + 1)
        send(ports, case_id, "accept", command_id=accepted)  # redelivered or re-sent: no change
        # The refused reply re-sent under its command_id, now that a reply would be legal: it
        # is answered from the record, neither applied nor dead-lettered again.
        send(ports, case_id, "reply", command_id=refused, **REPLY)
        marker = send(ports, case_id, "hearing_start")
        wait_for(
            lambda: any(
                e["type"] == "hearing_started" for e in app.commands.timeline(case_id).events
            ),
            "the marker command",
        )
        types = [e["type"] for e in app.commands.timeline(case_id).events]
        assert types.count("accepted") == 1 and marker
        assert "replied" not in types and types.count("command_rejected") == 1
        assert app.commands.timeline(case_id).case["stage"] == "accepted"
        assert ports.depth(REJECTED) == 0  # neither repeat was dead-lettered
        assert ports.count(events, events.c.type == "command_rejected") == 2  # + the invalid
    published = [json.loads(message.body)["type"] for message in ports.take("test.events")]
    assert "case.command_rejected" in published
    assert published.count("case.command_rejected") == 2
