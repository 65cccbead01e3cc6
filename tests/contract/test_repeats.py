"""Repeat and collective petitions on both databases (SQLite, PostgreSQL): links instead of new
cases, a re-sent linked message changes nothing, party keys are HMACs under the key migration
0003 stored, and no identity is kept anywhere but cases.petitioner.

The port that matters here is the database, so the real side is PostgreSQL with the in-process
broker (repeats never reach a broker: no vhost to make for each test). An app built on those
ports, no roles running, takes messages through IntakeService. The windows are a real
deployment's defaults (90 days for repeats, 7 for collectives). Scenarios that hold the same on
any database (windows, Art 19, Art 36, anonymous petitions, the identity key setting) are in
tests/unit/test_repeats_service.py.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ports import Ports
from sqlalchemy import MetaData, select
from support import ALICE, BOB, ELEVATOR, WAGES

from dispatcher.adapters.db import store
from dispatcher.adapters.db.tables import case_links, case_parties, cases, events
from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.repeats import LinkKind
from dispatcher.services.intake import Linked, Registered

JSON = "application/json"
NOW = datetime(2026, 5, 26, 2, 0, tzinfo=UTC)  # half an hour after the first petitions


@dataclass
class Petitions:
    app: App
    ports: Ports
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, petitioner: dict[str, str] | None = ALICE, **fields: Any) -> Any:
        message = self.make(petitioner, **fields)
        return self.app.intake.receive(self.encode(message), JSON, f"case.{message['channel']}")

    def make(self, petitioner: dict[str, str] | None = ALICE, **fields: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "schema": "xinfang.case/v1",
            "source": "cq-12345",
            "external_id": f"HL20260526{next(self._numbers):06d}",
            "channel": "phone",
            "received_at": "2026-05-26T09:30:00+08:00",
            "region": "500112",
            "category": "housing",
            "title": "金紫山小区加装电梯纠纷",
            "content": ELEVATOR,
            "people_count": 1,
            "urgent": False,
        } | fields
        if petitioner is not None:
            message["petitioner"] = dict(petitioner)
        return message

    @staticmethod
    def encode(message: dict[str, Any]) -> bytes:
        return json.dumps(message, ensure_ascii=False).encode("utf-8")

    def events_of(self, case_id: str) -> list[dict[str, Any]]:
        with self.app.engine.connect() as conn:
            return store.case_events(conn, case_id)

    def linked_total(self, kind: str) -> float:
        return (
            self.app.metrics.registry.get_sample_value("xinfang_cases_linked_total", {"kind": kind})
            or 0.0
        )


@pytest.fixture(params=["twin", "real"])
def database_ports(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ports]:
    """The suite's ports with only the database real: SQLite, or a fresh PostgreSQL database."""
    if request.param == "twin":
        built = Ports("sqlite", f"sqlite:///{tmp_path / 'xinfang.db'}", None)
    else:
        built = Ports("postgresql", request.getfixturevalue("pg_url"), None)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def petitions(database_ports: Ports) -> Iterator[Petitions]:
    with database_ports.running(roles=set(), clock=FixedClock(NOW)) as (app, _running):
        yield Petitions(app, database_ports)


def first_case(petitions: Petitions, **fields: Any) -> str:
    outcome = petitions.send(**fields)
    assert isinstance(outcome, Registered), outcome
    return outcome.case_id


def test_a_repeat_on_another_channel_links_to_the_existing_case(petitions: Petitions) -> None:
    ports = petitions.ports
    case_id = first_case(petitions, channel="phone", source="cq-12345")
    # Online, a week later, from another system; only the phone identifies her, written
    # differently, and the title is worded differently.
    again = petitions.send(
        {"phone": "13923017746"},
        channel="online",
        source="cq-wsxf",
        external_id="WS1",
        title="加装电梯纠纷再次反映",
        received_at="2026-06-02T20:00:00+08:00",
    )

    assert again == Linked(case_id, LinkKind.REPEAT)
    assert ports.count(cases) == 1
    (event,) = [e for e in petitions.events_of(case_id) if e["type"] == "repeat_linked"]
    assert (event["source"], event["external_id"]) == ("cq-12345", "HL20260526000001")
    assert event["data"]["channel"] == "online"
    assert event["data"]["via"] == {"source": "cq-wsxf", "external_id": "WS1"}
    assert event["data"]["received_at"] == "2026-06-02T20:00:00+08:00"
    assert petitions.linked_total("repeat") == 1
    assert ports.count(case_links, case_links.c.case_id == case_id) == 1
    with ports.engine.connect() as conn:
        link = conn.execute(select(case_links.c.external_id, case_links.c.kind)).one()
    assert tuple(link) == ("WS1", "repeat")


def test_a_re_sent_linked_message_changes_nothing(petitions: Petitions) -> None:
    ports = petitions.ports
    case_id = first_case(petitions)
    body = petitions.encode(petitions.make(channel="online", source="cq-wsxf", external_id="WS7"))

    first = petitions.app.intake.receive(body, JSON, "case.online")
    again = petitions.app.intake.receive(body, JSON, "case.online", redelivered=True)

    assert first == again == Linked(case_id, LinkKind.REPEAT)
    assert [e["type"] for e in petitions.events_of(case_id)] == ["registered", "repeat_linked"]
    assert ports.count(case_links) == 1
    assert petitions.linked_total("repeat") == 1
    assert (
        petitions.app.metrics.registry.get_sample_value(
            "xinfang_cases_duplicate_total", {"channel": "online"}
        )
        == 1
    )


def test_other_petitioners_on_one_matter_become_one_collective_case(petitions: Petitions) -> None:
    ports = petitions.ports
    case_id = first_case(petitions, category="housing")
    bob = petitions.send(
        BOB,
        category="housing",
        people_count=3,
        channel="online",
        source="cq-wsxf",
        title="金紫山小区加装电梯纠纷问题",
        content=ELEVATOR + "我们几户联名反映。",
        received_at="2026-05-29T09:00:00+08:00",
    )
    anonymous = petitions.send(None, category="housing", content=ELEVATOR + "请尽快处理。")

    assert bob == anonymous == Linked(case_id, LinkKind.COLLECTIVE)
    with ports.engine.connect() as conn:
        people = conn.scalar(select(cases.c.people_count).where(cases.c.case_id == case_id))
        parties = conn.execute(
            select(case_parties.c.role, case_parties.c.party_key).where(
                case_parties.c.case_id == case_id
            )
        ).all()
        kinds = list(conn.scalars(select(case_links.c.kind).order_by(case_links.c.id)))
    assert people == 1 + 3 + 1
    # Two keys each (ID number and phone); none for the anonymous one.
    assert sorted(role for role, _ in parties) == ["party", "party", "primary", "primary"]
    assert all(len(key) == 64 for _, key in parties)
    assert kinds == ["collective", "collective"]
    added = [e["data"] for e in petitions.events_of(case_id) if e["type"] == "party_added"]
    assert [data["people_count_now"] for data in added] == [4, 5]
    assert [data["channel"] for data in added] == ["online", "phone"]
    assert petitions.linked_total("collective") == 2


def test_links_and_party_keys_on_one_case(petitions: Petitions) -> None:
    """A repeat, a collective and the repeat re-sent, one after the other on one case."""
    app, ports = petitions.app, petitions.ports
    first = petitions.send({**ALICE, "phone": "13923017746"}, external_id="HL1")
    assert isinstance(first, Registered)

    repeat = petitions.encode(
        petitions.make(
            {"phone": "+86 139 2301 7746"}, external_id="WS1", source="cq-wsxf", channel="online"
        )
    )
    collective = petitions.encode(
        petitions.make(BOB, external_id="WX1", source="cq-wechat", channel="online", people_count=4)
    )
    outcomes = [
        app.intake.receive(body, JSON, "case.online") for body in (repeat, collective, repeat)
    ]  # the repeat re-sent

    assert outcomes == [
        Linked(first.case_id, LinkKind.REPEAT),
        Linked(first.case_id, LinkKind.COLLECTIVE),
        Linked(first.case_id, LinkKind.REPEAT),
    ]
    with ports.engine.connect() as conn:
        assert ports.count(cases) == 1
        assert conn.scalar(select(cases.c.people_count)) == 5
        links = conn.execute(
            select(case_links.c.external_id, case_links.c.kind).order_by(case_links.c.id)
        ).all()
        parties = conn.execute(select(case_parties.c.role, case_parties.c.party_key)).all()
        types = [e["type"] for e in store.case_events(conn, first.case_id)]
        everything = json.dumps(
            [
                [list(row) for row in conn.execute(select(table)).all()]
                for table in (case_links, case_parties, events)
            ],
            ensure_ascii=False,
            default=str,
        )
    assert [tuple(link) for link in links] == [("WS1", "repeat"), ("WX1", "collective")]
    assert sorted(role for role, _ in parties) == ["party", "party", "primary", "primary"]
    assert all(len(key) == 64 for _, key in parties)
    assert types == ["registered", "repeat_linked", "party_added"]
    for person in (ALICE, BOB):
        for value in person.values():
            assert value not in everything


def test_party_keys_use_the_key_the_migration_stored(petitions: Petitions) -> None:
    case_id = first_case(petitions)
    with petitions.ports.engine.connect() as conn:
        key = bytes.fromhex(store.read_secret(conn, "identity_key") or "")
        stored = dict(
            conn.execute(
                select(case_parties.c.key_kind, case_parties.c.party_key).where(
                    case_parties.c.case_id == case_id
                )
            ).all()
        )
    assert len(key) == 32
    assert stored == {
        "id_number": hmac.new(key, b"500112197603041524", hashlib.sha256).hexdigest(),
        "phone": hmac.new(key, b"13923017746", hashlib.sha256).hexdigest(),
    }


def identity_values() -> list[str]:
    values = [value for person in (ALICE, BOB) for value in person.values()]
    return [*values, "500112197603041524", "13923017746", "139-2301-7746"]


def test_no_identity_anywhere_but_cases_petitioner(petitions: Petitions) -> None:
    ports = petitions.ports
    case_id = first_case(petitions, category="housing")
    petitions.send(channel="online", source="cq-wsxf")  # repeat
    petitions.send(
        BOB, category="housing", content=ELEVATOR + "联名。", people_count=2
    )  # collective
    petitions.send(region="500000", channel="letter", source="cq-xfj-letter")  # Art 19
    petitions.send(title="拖欠农民工工资", content=WAGES, category="labour")  # new case
    assert ports.count(cases) == 2 and ports.count(case_links) == 3
    assert ports.count(events, events.c.case_id == case_id) == 4

    database = MetaData()
    database.reflect(ports.engine)  # every table there is, not only those xinfang declares
    with ports.engine.connect() as conn:
        for table in database.sorted_tables:
            kept = [c for c in table.c if not (table.name == "cases" and c.name == "petitioner")]
            rows = conn.execute(select(*kept)).all()
            text = json.dumps([list(row) for row in rows], ensure_ascii=False, default=str)
            for value in identity_values():
                assert value not in text, f"{value!r} found in table {table.name}"
        kept_with_the_case = json.dumps(
            [row.petitioner for row in conn.execute(select(cases.c.petitioner))],
            ensure_ascii=False,
        )
    assert {"case_parties", "case_links", "secrets", "events"} <= set(database.tables)
    assert ALICE["phone"] in kept_with_the_case  # the scan would have seen it
