"""The HTTP gateway over the app of `ports`, with a producer key for the source of
support.phone_case, sent with every request its client makes; and a department's written
reply to a case, as the petitioner's tests need it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from ports import Ports

from dispatcher.adapters.http import create_api
from dispatcher.bootstrap.app import App
from dispatcher.domain.decisions import Action, Command

SOURCE = "cq-12345"  # support.phone_case's
REPLY = {
    "request": "要求处理加装电梯纠纷",
    "facts": "经调查核实，一楼住户反对施工",
    "reasons": "依据相关规定",
    "decision": "由社区组织协商，限期复工",
    "legal_basis": "《信访工作条例》第三十二条",
}


@contextmanager
def open_gateway(ports: Ports, **settings: Any) -> Iterator[tuple[App, TestClient]]:
    """The gateway, with a worker to route what it registers; `settings` as Settings'."""
    with (
        ports.running({"worker"}, **settings) as (app, _running),
        TestClient(create_api(app)) as client,
    ):
        client.headers["X-API-Key"] = app.producer_keys.issue(SOURCE, label="tests")
        yield app, client


def accept_and_reply(app: App, case_id: str) -> None:
    """The handling department accepts the case and writes its reply (REPLY)."""
    for action, data in ((Action.ACCEPT, {}), (Action.REPLY, REPLY)):
        outcome = app.commands.handle(Command(action, case_id, "dept-officer", None, data))
        assert hasattr(outcome, "stage"), outcome
