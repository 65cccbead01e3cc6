"""The reads of dispatcher/services/public_status.py, with SQLAlchemy Core. Each is indexed:
cases by primary key, or along ix_cases_received_at within a bounded window; events along
ix_events_case_id. The columns read hold nothing of the petitioner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from dispatcher.adapters.db.tables import cases, events
from dispatcher.services.public_status import Window

_COLUMNS = (
    cases.c.case_id,
    cases.c.stage,
    cases.c.category,
    cases.c.org_unit_name,
    cases.c.received_at,
    cases.c.registered_at,
    cases.c.next_due_at,
)


def cases_by_id(conn: Connection, case_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not case_ids:
        return []
    query = select(*_COLUMNS).where(cases.c.case_id.in_(case_ids))
    return [dict(row) for row in conn.execute(query).mappings()]


def cases_received(conn: Connection, window: Window) -> list[dict[str, Any]]:
    query = select(*_COLUMNS).where(
        cases.c.received_at >= window.since, cases.c.received_at <= window.until
    )
    if window.categories:
        query = query.where(cases.c.category.in_(list(window.categories)))
    if window.stages:
        query = query.where(cases.c.stage.in_([stage.value for stage in window.stages]))
    query = query.order_by(cases.c.received_at.desc(), cases.c.case_id).limit(window.limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def latest_events(conn: Connection, case_ids: Sequence[str]) -> dict[str, datetime]:
    """Per case: when its latest event happened."""
    if not case_ids:
        return {}
    last = select(events.c.case_id, func.max(events.c.at).label("at")).where(
        events.c.case_id.in_(case_ids)
    )
    return {row.case_id: row.at for row in conn.execute(last.group_by(events.c.case_id))}
