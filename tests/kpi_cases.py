"""Hand-counted cases for the KPIs (monitoring/kpi.py, docs/kpis.md), written straight into the
tables so that every clock, reply, evaluation and ladder step is exactly where the counts below
say. Used on SQLite (tests/unit/test_kpis_report.py) and on PostgreSQL as well
(tests/contract/test_kpis_report.py). Times are Chongqing's, in 2026.

    case  received     region        channel  kind             clocks
    A     06-01 09:00  500103        online   housing          fwd met, acc met, hdl met
    B     06-02 10:00  500103001     phone    housing          fwd met, acc met late, hdl runs
    C     06-03 11:00  500112        online   education        fwd met, acc met, hdl overdue
    D     06-04 08:00  500112        letter   petition_bureau  fwd overdue (in triage)
    E     06-20 15:00  500112001001  online   housing          fwd met, acc runs (due 07-06)
    F     06-05 09:00  500103        video    education        fwd met, acc met, hdl met late
    G     (F's review) 500103        video    education        review met 06-28
    H     06-30 23:00  500103        phone    (not routed)     fwd runs (due 07-15)
    I     05-25 10:00  500112        online   housing          fwd met, acc met, hdl met
    J     06-10 09:00  500112        phone    labour           fwd met, acc met 06-24, hdl runs

    case  replies and evaluations              ladder steps taken
    A     06-10, ✗ 06-11; 06-20, ✓ 06-22
    B                                          06-14, 06-18
    C                                          06-13
    D                                          06-20 10:00
    F     06-15, ✗ 06-16 (then asks a review)
    G     06-28
    I     06-01, ~ 06-02
    J                                          06-23

✓ satisfied, ~ basically satisfied, ✗ dissatisfied. G is a review case of F (its own row, F's
receipt, region and channel). J's acceptance (due 06-26) is met on 06-24 and its one ladder step
(a warning) taken on 06-23: both after the window below ends, so that window does not see them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from dispatcher.adapters.db.tables import cases, clocks, escalations, events
from dispatcher.domain.clocks import SHANGHAI


def at(text: str) -> datetime:
    """'06-01 09:00' in Chongqing, 2026."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


NOW = at("07-01 00:00")  # every case, as of now
# The window of June's first twenty days, as of its end: [06-01 00:00, 06-21 00:00).
SINCE, UNTIL = at("06-01 00:00"), at("06-21 00:00")

# Counted by hand from the table above: (good, total) of each KPI.
EVERY_CASE = {
    # on time A C F I J; late B (acceptance met late), D (in triage past its 15 days);
    # E and H are still within their periods and not counted
    "timely_acceptance": (5, 7),
    # met A I and G's review; late C (overdue) and F (met late); B and J still running
    "on_time_completion": (3, 5),
    # original cases A B C D E F H I J (G is a review), online A C E I
    "online_share": (4, 9),
    # evaluations: A ✗, A ✓, F ✗, I ~
    "satisfaction": (2, 4),
    # replied A F G I, evaluated A F I
    "evaluation_participation": (3, 4),
    # all ten cases, a step taken on B C D J
    "escalation": (4, 10),
}

IN_WINDOW = {
    # cases A B C D E F G J; as of 06-21 J's acceptance is neither met nor due, E's runs;
    # on time A C F, late B D
    "timely_acceptance": (3, 5),
    # A met; C and F late; G's review still running on 06-21
    "on_time_completion": (1, 3),
    # originals A B C D E F J, online A C E
    "online_share": (3, 7),
    # A ✗ 06-11 and F ✗ 06-16; A's ✓ of 06-22 comes after the window's end
    "satisfaction": (0, 2),
    # replied by 06-21: A F (G's reply is of 06-28), both evaluated
    "evaluation_participation": (2, 2),
    # eight cases, steps by 06-21 on B C D (J's warning is of 06-23)
    "escalation": (3, 8),
}

# Every case, a row per group; each column adds up to EVERY_CASE.
PER_DISTRICT = {
    "500103": {  # A B F G H
        "timely_acceptance": (2, 3),
        "on_time_completion": (2, 3),
        "online_share": (1, 4),
        "satisfaction": (1, 3),
        "evaluation_participation": (2, 3),
        "escalation": (1, 5),
    },
    "500112": {  # C D E I J
        "timely_acceptance": (3, 4),
        "on_time_completion": (1, 2),
        "online_share": (3, 5),
        "satisfaction": (1, 1),
        "evaluation_participation": (1, 1),
        "escalation": (3, 5),
    },
}
NONE = (0, 0)
PER_KIND = {
    "education": {  # C F G
        "timely_acceptance": (2, 2),
        "on_time_completion": (1, 3),
        "online_share": (1, 2),
        "satisfaction": (0, 1),
        "evaluation_participation": (1, 2),
        "escalation": (1, 3),
    },
    "housing": {  # A B E I
        "timely_acceptance": (2, 3),
        "on_time_completion": (2, 2),
        "online_share": (3, 4),
        "satisfaction": (2, 3),
        "evaluation_participation": (2, 2),
        "escalation": (1, 4),
    },
    "labour": {  # J
        "timely_acceptance": (1, 1),
        "on_time_completion": NONE,
        "online_share": (0, 1),
        "satisfaction": NONE,
        "evaluation_participation": NONE,
        "escalation": (1, 1),
    },
    "petition_bureau": {  # D, in triage at the bureau
        "timely_acceptance": (0, 1),
        "on_time_completion": NONE,
        "online_share": (0, 1),
        "satisfaction": NONE,
        "evaluation_participation": NONE,
        "escalation": (1, 1),
    },
    "unrouted": {  # H
        "timely_acceptance": NONE,
        "on_time_completion": NONE,
        "online_share": (0, 1),
        "satisfaction": NONE,
        "evaluation_participation": NONE,
        "escalation": (0, 1),
    },
}
PER_CHANNEL = {
    "letter": {  # D
        "timely_acceptance": (0, 1),
        "on_time_completion": NONE,
        "online_share": (0, 1),
        "satisfaction": NONE,
        "evaluation_participation": NONE,
        "escalation": (1, 1),
    },
    "online": {  # A C E I
        "timely_acceptance": (3, 3),
        "on_time_completion": (2, 3),
        "online_share": (4, 4),
        "satisfaction": (2, 3),
        "evaluation_participation": (2, 2),
        "escalation": (1, 4),
    },
    "phone": {  # B H J
        "timely_acceptance": (1, 2),
        "on_time_completion": NONE,
        "online_share": (0, 3),
        "satisfaction": NONE,
        "evaluation_participation": NONE,
        "escalation": (2, 3),
    },
    "video": {  # F G
        "timely_acceptance": (1, 1),
        "on_time_completion": (1, 2),
        "online_share": (0, 1),
        "satisfaction": (0, 1),
        "evaluation_participation": (1, 2),
        "escalation": (0, 2),
    },
}


def _case(
    case_id: str, received: str, region: str, channel: str, kind: str | None, stage: str
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "source": "kpi-test",
        "external_id": case_id,
        "channel": channel,
        "region": region,
        "title": "t",
        "content": "c",
        "people_count": 1,
        "urgent": False,
        "attachments": [],
        "extra": {},
        "received_at": at(received),
        "registered_at": at(received),
        "stage": stage,
        "org_kind": kind,
        "kind": "original",
        "parent_case_id": None,
    }


CASES = [
    _case("A", "06-01 09:00", "500103", "online", "housing", "closed"),
    _case("B", "06-02 10:00", "500103001", "phone", "housing", "accepted"),
    _case("C", "06-03 11:00", "500112", "online", "education", "accepted"),
    _case("D", "06-04 08:00", "500112", "letter", "petition_bureau", "triage"),
    _case("E", "06-20 15:00", "500112001001", "online", "housing", "assigned"),
    _case("F", "06-05 09:00", "500103", "video", "education", "under_review"),
    _case("G", "06-05 09:00", "500103", "video", "education", "replied")
    | {"kind": "review", "parent_case_id": "F", "registered_at": at("06-17 10:00")},
    _case("H", "06-30 23:00", "500103", "phone", None, "registered"),
    _case("I", "05-25 10:00", "500112", "online", "housing", "closed"),
    _case("J", "06-10 09:00", "500112", "phone", "labour", "accepted"),
]


def _clock(
    case_id: str, name: str, started: str, due: str, met: str | None, status: str
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "name": name,
        "started_at": at(started),
        "due_at": at(due),
        "met_at": at(met) if met else None,
        "status": status,
        "article": "Art 22",
        "updated_at": at(met or started),
    }


CLOCKS = [
    _clock("A", "forwarding", "06-01 09:00", "06-16 23:59", "06-01 09:10", "met"),
    _clock("A", "acceptance", "06-01 09:10", "06-16 23:59", "06-02 10:00", "met"),
    _clock("A", "handling", "06-12 09:00", "08-11 23:59", "06-20 10:00", "met"),  # re-handled
    _clock("B", "forwarding", "06-02 10:00", "06-17 23:59", "06-02 10:05", "met"),
    _clock("B", "acceptance", "06-02 10:05", "06-17 23:59", "06-20 10:00", "met_late"),
    _clock("B", "handling", "06-20 10:00", "08-19 23:59", None, "running"),
    _clock("C", "forwarding", "06-03 11:00", "06-18 23:59", "06-03 11:05", "met"),
    _clock("C", "acceptance", "06-03 11:05", "06-18 23:59", "06-05 09:00", "met"),
    _clock("C", "handling", "06-05 09:00", "06-12 23:59", None, "overdue"),  # 5 working days
    _clock("D", "forwarding", "06-04 08:00", "06-19 23:59", None, "overdue"),
    _clock("E", "forwarding", "06-20 15:00", "07-05 23:59", "06-20 15:05", "met"),
    _clock("E", "acceptance", "06-20 15:05", "07-06 23:59", None, "running"),
    _clock("F", "forwarding", "06-05 09:00", "06-20 23:59", "06-05 09:05", "met"),
    _clock("F", "acceptance", "06-05 09:05", "06-20 23:59", "06-06 09:00", "met"),
    _clock("F", "handling", "06-06 09:00", "06-12 23:59", "06-15 10:00", "met_late"),
    _clock("G", "review", "06-17 10:00", "07-17 23:59", "06-28 10:00", "met"),
    _clock("H", "forwarding", "06-30 23:00", "07-15 23:59", None, "running"),
    _clock("I", "forwarding", "05-25 10:00", "06-09 23:59", "05-25 10:05", "met"),
    _clock("I", "acceptance", "05-25 10:05", "06-09 23:59", "05-26 09:00", "met"),
    _clock("I", "handling", "05-26 09:00", "07-25 23:59", "06-01 09:00", "met"),
    _clock("J", "forwarding", "06-10 09:00", "06-25 23:59", "06-10 10:00", "met"),
    _clock("J", "acceptance", "06-10 10:00", "06-26 23:59", "06-24 10:00", "met"),
    _clock("J", "handling", "06-24 10:00", "08-23 23:59", None, "running"),
]


def _event(case_id: str, kind: str, when: str, rating: str | None = None) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "case_id": case_id,
        "source": "kpi-test",
        "external_id": case_id,
        "at": at(when),
        "data": {"rating": rating} if rating else {},
    }


EVENTS = [
    _event("A", "replied", "06-10 10:00"),
    _event("A", "evaluated", "06-11 10:00", "dissatisfied"),
    _event("A", "replied", "06-20 10:00"),
    _event("A", "evaluated", "06-22 10:00", "satisfied"),
    _event("F", "replied", "06-15 10:00"),
    _event("F", "evaluated", "06-16 10:00", "dissatisfied"),
    _event("F", "review_requested", "06-17 10:00"),
    _event("G", "replied", "06-28 10:00"),
    _event("I", "replied", "06-01 09:00"),
    _event("I", "evaluated", "06-02 09:00", "basically_satisfied"),
]


def _step(case_id: str, clock: str, step: str, when: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "clock": clock,
        "period": "1",
        "step": step,
        "kind": step,
        "ladder": "period-15d",
        "level": "district",
        "region": "500103",
        "roles": ["handler"],
        "due_at": at(when),
        "step_at": at(when),
        "escalated_at": at(when),
        "days_overdue": 0,
        "event_id": str(uuid.uuid4()),
    }


ESCALATIONS = [
    _step("B", "acceptance", "warning", "06-14 09:00"),
    _step("B", "acceptance", "reminder", "06-18 09:00"),
    _step("C", "handling", "reminder", "06-13 09:00"),
    _step("D", "forwarding", "reminder", "06-20 10:00"),
    _step("J", "acceptance", "warning", "06-23 09:00"),
]


def insert_cases(engine: Engine) -> None:
    """The cases above into an upgraded, empty database."""
    with engine.begin() as conn:
        for table, rows in (
            (cases, CASES),
            (clocks, CLOCKS),
            (events, EVENTS),
            (escalations, ESCALATIONS),
        ):
            conn.execute(insert(table), rows)
