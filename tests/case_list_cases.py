"""The cases `xinfang case list` is tested on, on SQLite (tests/unit/test_case_list.py) and on
PostgreSQL as well (tests/contract/test_case_list.py).

All from PETITIONER, received 2026-05-26 09:30 (D: 05-20) and registered a minute apart, in
the order A to E, on a clock that starts at 2026-05-26 10:00 in Chongqing:

    A  500103     routed: assigned to 500103:housing  acceptance due 2026-06-10 23:59
    B  500103001  routed, accepted (500103:housing)   handling   due 2026-07-27 23:59
    C  500104     routed: assigned to 500104:housing  acceptance due 2026-06-10 23:59
    D  500103     not routed: registered, no unit     forwarding due 2026-06-04 23:59
    E  500103     routed, not accepted                no running clock

A and C also have an objection window open until 2026-06-02: a right of the unit, no deadline,
never what a case is listed by.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from support import phone_case

from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.decisions import Action, Command
from dispatcher.services.intake import Registered

# Every case in the order of the list: the earliest due of a running clock, then registration.
IN_ORDER = ["D", "A", "C", "B", "E"]


def register_cases(app: App, clock: FixedClock) -> dict[str, str]:
    """The cases above, as {external_id: case_id}."""

    def new(external_id: str, route: bool = True, **fields: Any) -> str:
        clock.advance(timedelta(minutes=1))
        body = json.dumps(phone_case(external_id, **fields), ensure_ascii=False).encode()
        outcome = app.intake.receive(body, "application/json", "case.phone")
        assert isinstance(outcome, Registered), outcome
        if route:
            app.routing.route(outcome.case_id)
        return outcome.case_id

    ids = {"A": new("A"), "B": new("B", region="500103001")}
    act(app, ids["B"], Action.ACCEPT)
    ids |= {
        "C": new("C", region="500104"),
        "D": new("D", route=False, received_at="2026-05-20T09:30:00+08:00"),
        "E": new("E"),
    }
    act(app, ids["E"], Action.REJECT, reason="不属于信访事项", divert_to="litigation")
    return ids


def act(app: App, case_id: str, action: Action, **data: Any) -> None:
    outcome = app.commands.handle(Command(action, case_id, "tester", None, data))
    assert hasattr(outcome, "stage"), outcome
