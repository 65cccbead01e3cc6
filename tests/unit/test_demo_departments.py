"""The simulated departments plan the same life for the same case in every run: cases routed in
one batch share their assignment time, and their random UUIDs must not decide which case gets
which of the seeded draws (the demo's last simulated day came out different run to run)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert

from dispatcher.adapters.db.tables import cases
from dispatcher.bootstrap.app import make_engine
from dispatcher.demo import departments

ASSIGNED_AT = datetime(2026, 5, 6, 1, 56, 53, tzinfo=UTC)  # one batch: one assignment time
EXTERNAL_IDS = [f"WS20260506{n:05d}" for n in range(1, 13)]


def _case(external_id: str, case_id: str) -> dict[str, object]:
    return {
        "case_id": case_id,
        "source": "cq-wsxf",
        "external_id": external_id,
        "channel": "online",
        "region": "500103",
        "title": "t",
        "content": "c",
        "people_count": 1,
        "urgent": False,
        "attachments": [],
        "extra": {},
        "received_at": ASSIGNED_AT,
        "registered_at": ASSIGNED_AT,
        "stage": "assigned",
        "org_unit_id": "500103:housing",
        "org_unit_name": "渝中区住房和城乡建设委员会",
        "org_kind": "housing",
        "assigned_at": ASSIGNED_AT,
    }


def _plans_by_case(database_url: str, case_id: Callable[[int], str]) -> dict[str, list[str]]:
    """Each external_id's planned actions and times, the cases stored under the ids given."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(cases.delete())
            conn.execute(
                insert(cases),
                [_case(external, case_id(n)) for n, external in enumerate(EXTERNAL_IDS)],
            )
        with engine.connect() as conn:
            planned = departments.plan(conn)
            ids = dict(
                conn.execute(
                    cases.select().with_only_columns(cases.c.case_id, cases.c.external_id)
                ).all()
            )
    finally:
        engine.dispose()
    by_case: dict[str, list[str]] = {}
    for step in planned:
        by_case.setdefault(ids[step.case_id], []).append(f"{step.action} {step.at.isoformat()}")
    return by_case


def test_a_case_gets_the_same_plan_whatever_its_uuid(database_url: str) -> None:
    ascending = _plans_by_case(database_url, lambda n: f"{n:02d}{uuid.uuid4()}"[:36])
    descending = _plans_by_case(database_url, lambda n: f"{99 - n:02d}{uuid.uuid4()}"[:36])
    assert set(ascending) == set(EXTERNAL_IDS)
    assert ascending == descending
