"""Escalation ladders and their notifications, on SQLite with the senders' twin and on
PostgreSQL with a real SMTP server and a real HTTP endpoint, by the same tests.

The case: a phone petition about housing in 渝中区 (a district), received 2026-05-26 09:30
and routed at 10:00. Its acceptance clock (Art 23, 15 days) ends 2026-06-10 23:59:59 and runs
on ladder period-15d: 预警 when three working days are left (Mon 06-08 09:00, the weekend
before waits for working hours), 催办 at the deadline (Thu 06-11 09:00), 督办 two working
days after it (06-16), 挂牌督办 at the city five working days after it (06-18). No second
挂牌督办: the city is as high as a district's case climbs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from endpoints import DESK_EMAIL, SECRET, Endpoints, RealEndpoints, TwinEndpoints, directory_for
from support import PETITIONER, phone_case

from dispatcher.adapters.db import ladder_store, schema
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.decisions import Action, Command
from dispatcher.domain.notifications import Status
from dispatcher.services.intake import Registered
from dispatcher.services.notifications import Deliveries

ROUTED = datetime(2026, 5, 26, 10, 0, tzinfo=SHANGHAI)
STEPS = {
    "warning": datetime(2026, 6, 8, 9, 0, tzinfo=SHANGHAI),
    "reminder": datetime(2026, 6, 11, 9, 0, tzinfo=SHANGHAI),
    "supervision": datetime(2026, 6, 16, 0, 0, tzinfo=SHANGHAI),
    "listed": datetime(2026, 6, 18, 0, 0, tzinfo=SHANGHAI),
}


@dataclass
class World:
    app: App
    clock: FixedClock
    endpoints: Endpoints
    deliveries: Deliveries
    settings: Settings

    def new_case(self, external_id: str = "CQ-ESC-1", **fields: Any) -> str:
        message = phone_case(external_id, **fields)
        outcome = self.app.intake.receive(
            _json(message), "application/json", f"case.{message['channel']}"
        )
        assert isinstance(outcome, Registered)
        self.app.routing.route(outcome.case_id)
        return outcome.case_id

    def sweep(self, moment: datetime) -> list[str]:
        """`xinfang sweep --now moment`: the steps taken, then one delivery round."""
        taken = self.app.escalations.sweep(moment)
        self.deliveries.deliver_due(moment)
        return [t.step for t in taken]

    def act(self, case_id: str, action: Action, at: datetime, **data: Any) -> None:
        self.clock.advance(at - self.clock())
        self.app.commands.handle(Command(action, case_id, "tester", data=data))

    def events(self, case_id: str, kind: str) -> list[dict[str, Any]]:
        timeline = self.app.commands.timeline(case_id)
        return [e["data"] for e in timeline.events if e["type"] == kind]

    def notification_rows(self, case_id: str) -> list[dict[str, Any]]:
        with self.app.engine.connect() as conn:
            return ladder_store.notifications_of(conn, case_id)


def _json(message: dict[str, Any]) -> bytes:
    import json

    return json.dumps(message, ensure_ascii=False).encode()


@pytest.fixture(params=["twin", "real"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "twin":
        endpoints: Endpoints = TwinEndpoints()
        url = f"sqlite:///{tmp_path / 'xinfang.db'}"
    else:
        endpoints = RealEndpoints(request.getfixturevalue("httpserver"))
        url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    settings = Settings(
        broker_url=None,
        database_url=url,
        rules_path=None,
        directory_path=directory_for(endpoints, tmp_path),
        repeat_window_days=0,
        collective_window_days=0,
        smtp_url=endpoints.smtp_url,
        webhook_secret=SECRET,
        notify_webhook=endpoints.webhook_url("desk"),
        notify_email=DESK_EMAIL,
    )
    clock = FixedClock(ROUTED)
    app = build(settings, clock=clock)
    deliveries = app.deliveries
    if isinstance(endpoints, TwinEndpoints):
        deliveries = Deliveries(
            app.engine, ladder_store, endpoints.senders(), clock, metrics=app.metrics
        )
    try:
        yield World(app, clock, endpoints, deliveries, settings)
    finally:
        app.close()
        endpoints.close()


def test_each_step_once_in_order_with_each_notification_once(world: World) -> None:
    case_id = world.new_case()
    assert world.sweep(STEPS["warning"] - timedelta(seconds=1)) == []
    for step, moment in STEPS.items():
        assert world.sweep(moment) == [step]
        assert world.sweep(moment + timedelta(hours=1)) == []  # a second sweep adds nothing
    assert world.sweep(datetime(2026, 7, 31, tzinfo=SHANGHAI)) == []  # no step above the city

    escalated = world.events(case_id, "escalated")
    assert [e["step"]["key"] for e in escalated] == list(STEPS)
    assert [e["step"]["title"] for e in escalated] == ["预警", "催办", "督办", "挂牌督办"]
    assert [e["level"] for e in escalated] == ["district"] * 3 + ["city"]
    assert [e["days_overdue"] for e in escalated] == [0, 1, 6, 8]
    assert {e["clock"]["name"] for e in escalated} == {"acceptance"}
    assert escalated[3]["region"]["code"] == "500000"
    assert escalated[0]["clock"]["due_at"] == "2026-06-10T23:59:59+08:00"

    rows = world.notification_rows(case_id)
    assert rows and {r["status"] for r in rows} == {Status.SENT.value}
    received = world.endpoints.received()
    ids = [r.notification_id for r in received]
    assert sorted(ids) == sorted(r["id"] for r in rows)  # every one arrived, and once
    assert len(set(ids)) == len(ids)
    assert {r.channel for r in received} == {"email", "webhook"}
    handler_mail = [r for r in received if r.recipient == "zjw@yuzhong.cq.example"]
    assert len(handler_mail) == 2  # warning and reminder go to the unit's head
    assert "渝中区住房和城乡建设委员会" in handler_mail[0].text
    assert "Art 23" in handler_mail[0].text and "15日内" in handler_mail[0].text
    assert "超期1日" in handler_mail[1].text
    for item in received:
        for value in PETITIONER.values():
            assert value not in item.text


def test_acting_on_the_case_stops_its_ladder(world: World) -> None:
    case_id = world.new_case()
    assert world.sweep(STEPS["reminder"]) == ["warning", "reminder"]
    world.act(case_id, Action.ACCEPT, STEPS["reminder"] + timedelta(hours=2))
    (stopped,) = world.events(case_id, "deescalated")
    assert stopped["clock"]["name"] == "acceptance"
    assert (stopped["reason"], stopped["last_step"]) == ("met", "reminder")
    assert world.sweep(STEPS["listed"] + timedelta(days=5)) == []
    # Handling (60 days from acceptance) has its own ladder, which has not begun.
    handling = world.events(case_id, "escalated")
    assert {e["clock"]["name"] for e in handling} == {"acceptance"}


def test_an_extension_moves_the_ladder_to_the_new_deadline(world: World) -> None:
    case_id = world.new_case()
    accepted = datetime(2026, 5, 27, 10, 0, tzinfo=SHANGHAI)
    world.act(case_id, Action.ACCEPT, accepted)
    handling_due = _due(world, case_id, "handling")
    assert handling_due.astimezone(SHANGHAI).date().isoformat() == "2026-07-27"
    before_deadline = handling_due - timedelta(hours=12)  # Art 34: extended within the period
    assert world.sweep(before_deadline) == ["warning"]
    world.act(
        case_id, Action.EXTEND, before_deadline, days=30, approved_by="主任", reason="情况复杂"
    )
    (stopped,) = world.events(case_id, "deescalated")
    assert stopped["reason"] == "extended" and stopped["last_step"] == "warning"
    assert world.sweep(handling_due + timedelta(days=10)) == []  # the old 催办: gone
    new_due = _due(world, case_id, "handling")
    assert new_due.astimezone(SHANGHAI).date().isoformat() == "2026-08-25"  # 05-27 + 90 days
    assert world.sweep(new_due + timedelta(seconds=1)) == ["warning"]  # 催办 waits for 09:00
    assert world.sweep(new_due + timedelta(hours=10)) == ["reminder"]
    periods = {e["clock"]["period"] for e in world.events(case_id, "escalated")}
    assert len(periods) == 2  # the same steps again, in the new period only


def test_a_closed_case_escalates_no_more(world: World) -> None:
    case_id = world.new_case()
    assert world.sweep(STEPS["warning"]) == ["warning"]
    world.act(
        case_id,
        Action.REJECT,
        STEPS["warning"] + timedelta(hours=1),
        reason="不属于信访事项",
        divert_to="litigation",
    )
    assert world.events(case_id, "deescalated")[0]["reason"] in {"met", "closed"}
    assert world.sweep(STEPS["listed"]) == []


def test_two_schedulers_racing_over_thirty_days_take_each_step_once(world: World) -> None:
    cases = [world.new_case(f"CQ-RACE-{n}") for n in range(4)]
    moments = [ROUTED + timedelta(hours=6 * n) for n in range(4 * 40)]  # 40 days
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            for moment in moments:
                world.app.escalations.sweep(moment)
        except BaseException as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for case_id in cases:
        keys = [e["step"]["key"] for e in world.events(case_id, "escalated")]
        assert keys == list(STEPS), keys
    with world.app.engine.connect() as conn:
        taken = sum(len(ladder_store.escalations_of(conn, c)) for c in cases)
    assert taken == 4 * len(STEPS)


def test_a_notification_lost_between_claim_and_delivery_arrives_once(world: World) -> None:
    """The worker that took the step dies before any notification went out: the rows are
    committed with the step; after the restart each goes out once, however many sweeps
    and redeliveries follow. A sender that died mid-attempt is retried once its lease ends."""
    case_id = world.new_case()
    taken = world.app.escalations.sweep(STEPS["warning"])  # claimed; nothing delivered
    assert [t.step for t in taken] == ["warning"]
    assert world.endpoints.received() == []
    rows = world.notification_rows(case_id)
    assert {r["status"] for r in rows} == {"pending"}
    # A sender claims one and dies before sending: it stays `sending` until its lease ends.
    stuck = rows[0]["id"]
    with world.app.engine.begin() as conn:
        ladder_store.claim_delivery(
            conn, stuck, STEPS["warning"], STEPS["warning"] + timedelta(minutes=5)
        )
    later = STEPS["warning"] + timedelta(minutes=1)
    first = world.deliveries.deliver_due(later)
    assert stuck not in {a.notification_id for a in first}
    for notification_id in [r["id"] for r in rows]:  # a redelivered message for every row
        world.deliveries.deliver(notification_id, later)
    after_lease = STEPS["warning"] + timedelta(minutes=10)
    world.deliveries.deliver_due(after_lease)
    world.deliveries.deliver_due(after_lease + timedelta(minutes=1))
    ids = [r.notification_id for r in world.endpoints.received()]
    assert sorted(ids) == sorted(r["id"] for r in rows)
    assert {r["status"] for r in world.notification_rows(case_id)} == {"sent"}


def _due(world: World, case_id: str, clock: str) -> datetime:
    view = next(c for c in world.app.commands.timeline(case_id).clocks if c.name == clock)
    assert view.due_at is not None
    return view.due_at


def test_editing_a_ladder_replans_open_cases(world: World, tmp_path: Path) -> None:
    case_id = world.new_case()
    assert world.sweep(STEPS["warning"]) == ["warning"]
    folder = tmp_path / "ladders"
    folder.mkdir()
    from dispatcher.adapters.files.ladders import LADDER_DIR

    text = (LADDER_DIR / "cn-2022.yaml").read_text(encoding="utf-8")
    # 催办 dropped from the 15-day ladder; 督办 moved to the deadline itself.
    text = text.replace(
        """      - {id: reminder, kind: reminder, after: {days: 0},
         roles: [handler, handler_head], hours: working_hours}
      - {id: supervision, kind: supervision, after: {days: 2, unit: working_days},""",
        """      - {id: supervision, kind: supervision, after: {days: 0},""",
        1,
    )
    (folder / "cn-2022.yaml").write_text(text, encoding="utf-8")
    edited = build(replace(world.settings, ladders_path=folder), clock=world.clock)
    try:
        assert edited.plan_version != world.app.plan_version
        assert edited.escalations.replan_if_changed(edited.plan_version, STEPS["warning"]) == 1
        assert edited.escalations.replan_if_changed(edited.plan_version, STEPS["warning"]) is None
        deadline_passed = datetime(2026, 6, 11, 0, 0, tzinfo=SHANGHAI)
        assert [t.step for t in edited.escalations.sweep(deadline_passed)] == ["supervision"]
        assert [t.step for t in edited.escalations.sweep(STEPS["listed"])] == ["listed"]
    finally:
        edited.close()
    keys = [e["step"]["key"] for e in world.events(case_id, "escalated")]
    assert keys == ["warning", "supervision", "listed"]  # the dropped step never happened
