"""Repeat and collective petitions through IntakeService on SQLite: the repeat window, Art 19 and
Art 36, which petitions make a collective and which never link, the consumer's part, and the
identity key setting. What must hold the same on PostgreSQL (links, a re-sent linked message,
collective parties, party keys, no identity outside cases.petitioner) is in
tests/contract/test_repeats.py, on both databases."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from support import ALICE, BOB, ELEVATOR, WAGES

from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import case_links, case_parties, cases
from dispatcher.adapters.messaging.connection import connect
from dispatcher.adapters.messaging.delivery import Delivery
from dispatcher.adapters.messaging.intake import intake_consumer
from dispatcher.bootstrap.app import App
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.decisions import Action, Command
from dispatcher.domain.repeats import ART_19, ART_36, LinkKind
from dispatcher.services.intake import Linked, Registered
from dispatcher.services.lifecycle import Applied

JSON = "application/json"
MakeCase = Callable[..., dict[str, Any]]
Encode = Callable[[dict[str, Any]], bytes]

CAROL = {"phone": "023-6788 1234"}
REPLY = {
    "request": "要求协调加装电梯",
    "facts": "经查，业主意见不一致",
    "reasons": "依据相关规定",
    "decision": "由街道组织协商",
    "legal_basis": "《民法典》第二百七十八条",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The defaults of a real deployment: 90 days for repeats, 7 for collectives."""
    return Settings(
        broker_url=None,
        database_url=database_url,
        rules_path=None,
        directory_path=None,
        worker_threads=2,
        relay_interval_seconds=0.01,
    )


@dataclass
class Petitions:
    app: App
    make_case: MakeCase
    encode: Encode

    def send(self, petitioner: dict[str, str] | None = ALICE, **fields: Any) -> Any:
        message = self.make(petitioner, **fields)
        return self.app.intake.receive(self.encode(message), JSON, f"case.{message['channel']}")

    def make(self, petitioner: dict[str, str] | None = ALICE, **fields: Any) -> dict[str, Any]:
        fields = {
            "region": "500112",
            "title": "金紫山小区加装电梯纠纷",
            "content": ELEVATOR,
            "received_at": "2026-05-26T09:30:00+08:00",
        } | fields
        drop = ("petitioner",) if petitioner is None else ()
        return self.make_case(petitioner=petitioner, drop=drop, **fields)

    def events_of(self, case_id: str) -> list[dict[str, Any]]:
        with self.app.engine.connect() as conn:
            return store.case_events(conn, case_id)

    def count(self, table: Any, *where: Any) -> int:
        with self.app.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    def linked_total(self, kind: str) -> float:
        return (
            self.app.metrics.registry.get_sample_value("xinfang_cases_linked_total", {"kind": kind})
            or 0.0
        )


@pytest.fixture
def petitions(app: App, make_case: MakeCase, encode: Encode) -> Petitions:
    return Petitions(app, make_case, encode)


def first_case(petitions: Petitions, **fields: Any) -> str:
    outcome = petitions.send(**fields)
    assert isinstance(outcome, Registered), outcome
    return outcome.case_id


# -- repeats ---------------------------------------------------------------------------------


def test_a_different_matter_of_the_same_petitioner_opens_a_new_case(petitions: Petitions) -> None:
    case_id = first_case(petitions)
    wages = petitions.send(title="拖欠农民工工资", content=WAGES, category="labour")

    assert isinstance(wages, Registered) and wages.case_id != case_id
    assert petitions.count(cases) == 2
    with petitions.app.engine.connect() as conn:
        keys = {
            case: set(
                conn.scalars(select(case_parties.c.party_key).where(case_parties.c.case_id == case))
            )
            for case in (case_id, wages.case_id)
        }
    assert len(keys[case_id]) == 2 and keys[case_id] == keys[wages.case_id]


def test_outside_the_window_a_repeat_opens_a_new_case(petitions: Petitions) -> None:
    first_case(petitions)
    later = petitions.send(received_at="2026-08-25T09:31:00+08:00")  # 91 days on

    assert isinstance(later, Registered)
    assert petitions.count(cases) == 2


def test_a_repeat_at_a_higher_level_says_who_already_handles_it(petitions: Petitions) -> None:
    case_id = first_case(petitions)
    petitions.app.routing.route(case_id)
    with petitions.app.engine.connect() as conn:
        unit = conn.scalar(select(cases.c.org_unit_id).where(cases.c.case_id == case_id))

    to_city = petitions.send(region="500000", channel="letter", source="cq-xfj-letter")

    assert to_city == Linked(case_id, LinkKind.REPEAT)
    (event,) = [e for e in petitions.events_of(case_id) if e["type"] == "repeat_linked"]
    assert unit and event["data"]["already_handled_by"] == unit
    assert event["data"]["basis"] == ART_19


def test_a_repeat_below_the_existing_level_links_without_art_19(petitions: Petitions) -> None:
    case_id = first_case(petitions)
    petitions.send(region="500112003")
    (event,) = [e for e in petitions.events_of(case_id) if e["type"] == "repeat_linked"]
    assert "already_handled_by" not in event["data"]


def test_a_matter_decided_by_re_review_is_refused_pointing_to_the_final_case(
    petitions: Petitions,
) -> None:
    case_id = first_case(petitions)
    final_id = drive_to_final(petitions.app, case_id)

    again = petitions.send(
        channel="visit", source="cq-xfj-visit", received_at="2027-03-01T10:00:00+08:00"
    )  # long after any window

    assert again == Linked(case_id, LinkKind.REFUSED_FINAL)
    refused = [e for e in petitions.events_of(case_id) if e["type"] == "repeat_refused"]
    assert len(refused) == 1
    assert refused[0]["data"]["final_case_id"] == final_id
    assert refused[0]["data"]["basis"] == ART_36
    assert petitions.linked_total("refused_final") == 1


def drive_to_final(app: App, case_id: str) -> str:
    app.routing.route(case_id)

    def act(case: str, action: Action, **data: Any) -> Applied:
        outcome = app.commands.handle(Command(action, case, "tester", data=data))
        assert isinstance(outcome, Applied), outcome
        return outcome

    act(case_id, Action.ACCEPT)
    act(case_id, Action.REPLY, **REPLY)
    review = act(case_id, Action.REQUEST_REVIEW, reason="不服").linked_case_id
    assert review
    act(review, Action.REPLY, **REPLY)
    final = act(review, Action.REQUEST_REREVIEW, reason="仍不服").linked_case_id
    assert final
    act(final, Action.REPLY, **REPLY)
    return final


# -- collectives -----------------------------------------------------------------------------


def test_a_party_of_a_collective_case_petitioning_again_is_a_repeat(petitions: Petitions) -> None:
    case_id = first_case(petitions, category="housing")
    petitions.send(BOB, category="housing", content=ELEVATOR + "联名。", people_count=2)

    again = petitions.send(
        {"id_number": BOB["id_number"]},
        category="housing",
        title="电梯加装纠纷",
        channel="video",
        source="cq-video",
    )

    assert again == Linked(case_id, LinkKind.REPEAT)


def test_a_collective_needs_the_same_region_code_and_an_open_case(petitions: Petitions) -> None:
    case_id = first_case(petitions, category="housing")
    in_a_town = petitions.send(BOB, category="housing", region="500112003")
    petitions.app.routing.route(case_id)
    petitions.app.commands.handle(
        Command(Action.REJECT, case_id, "tester", data={"reason": "不属于信访事项"})
    )
    after_it_ended = petitions.send(CAROL, category="housing")

    assert isinstance(in_a_town, Registered) and isinstance(after_it_ended, Registered)
    assert petitions.count(case_links) == 0


def test_an_anonymous_petition_is_never_a_repeat(petitions: Petitions) -> None:
    first_case(petitions, petitioner=None)
    # The same matter, anonymous again, at the district above (no collective: another code).
    again = petitions.send(None, region="500000")

    assert isinstance(again, Registered)
    assert petitions.count(case_parties) == 0


# -- the consumer, keys and identity ---------------------------------------------------------


def test_the_consumer_enqueues_no_routing_for_a_linked_message(
    petitions: Petitions, memory_queues: None
) -> None:
    enqueued: list[str] = []
    consumer = intake_consumer(
        connect(None), connect(None), petitions.app.intake, enqueued.append, petitions.app.metrics
    )
    handle = consumer._handle  # the batch step, without running the consumer loop

    first = petitions.encode(petitions.make())
    assert handle([Delivery(first, JSON, routing_key="case.phone")]) == [None]
    again = petitions.encode(petitions.make(channel="online"))
    assert handle([Delivery(again, JSON, routing_key="case.online")]) == [None]

    assert len(enqueued) == 1 and petitions.count(cases) == 1 and petitions.count(case_links) == 1


def test_xinfang_identity_key_replaces_the_stored_one(
    settings: Settings, make_case: MakeCase, encode: Encode, memory_queues: None
) -> None:
    from dispatcher.bootstrap.app import build

    app = build(replace(settings, identity_key="a text key, not hex!"))
    try:
        outcome = app.intake.receive(
            encode(make_case(petitioner={"phone": "13923017746"})), JSON, "case.phone"
        )
        assert isinstance(outcome, Registered)
        with app.engine.connect() as conn:
            stored = conn.scalar(select(case_parties.c.party_key))
    finally:
        app.close()
    assert stored == hmac.new(b"a text key, not hex!", b"13923017746", hashlib.sha256).hexdigest()


def test_links_happen_within_the_repeat_window_measured_from_receipt(petitions: Petitions) -> None:
    first_case(petitions)
    received = datetime.fromisoformat("2026-05-26T09:30:00+08:00") + timedelta(days=90)
    assert isinstance(petitions.send(received_at=received.isoformat()), Linked)
