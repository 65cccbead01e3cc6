"""The console's reads and writes: its officers, the audit trail and the overdue board's counts.
Every lookup is by primary key or along an index; none reads the petitioner's identity (the
desk shows it from the case's timeline, to the handling unit only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, literal_column, or_, select, update

# The board's list is the query of `xinfang overdue`, offered here as the desk's port.
from dispatcher.adapters.db.ladder_store import ESCALATED_CLOCKS, overdue  # noqa: F401
from dispatcher.adapters.db.listing import CaseFilter, find_cases, next_prefix
from dispatcher.adapters.db.tables import audit_log, cases, clocks, console_users

DISTRICT_DIGITS = 6


def find_user(conn: Connection, username: str) -> dict[str, Any] | None:
    row = conn.execute(select(console_users).where(console_users.c.username == username)).mappings()
    found = row.first()
    return dict(found) if found is not None else None


def insert_user(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(console_users).values(**row))


def set_password(conn: Connection, username: str, password_hash: str) -> None:
    conn.execute(
        update(console_users)
        .where(console_users.c.username == username)
        .values(password_hash=password_hash)
    )


def disable_user(conn: Connection, username: str, at: datetime) -> bool:
    done = conn.execute(
        update(console_users)
        .where(console_users.c.username == username, console_users.c.disabled_at.is_(None))
        .values(disabled_at=at)
    )
    return bool(done.rowcount)


def list_users(conn: Connection) -> list[dict[str, Any]]:
    query = select(console_users).order_by(console_users.c.username)
    return [dict(row) for row in conn.execute(query).mappings()]


def record(
    conn: Connection,
    at: datetime,
    username: str,
    action: str,
    case_id: str | None,
    detail: str | None = None,
) -> None:
    conn.execute(
        insert(audit_log).values(
            at=at, username=username, action=action, case_id=case_id, detail=detail
        )
    )


def overdue_counts(
    conn: Connection, as_of: datetime, region_prefix: str
) -> list[tuple[str, str | None, int]]:
    """Overdue cases of the region and below, by district and by the level the case has been
    escalated to (None: not yet): one grouped query along ix_clocks_overdue."""
    district = func.substr(
        cases.c.region, literal_column("1"), literal_column(str(DISTRICT_DIGITS))
    )
    query = (
        select(district, clocks.c.escalated_level, func.count(func.distinct(clocks.c.case_id)))
        .select_from(clocks.join(cases, cases.c.case_id == clocks.c.case_id))
        .where(clocks.c.due_at < as_of, clocks.c.started_at <= as_of)
        .where(clocks.c.name.in_(ESCALATED_CLOCKS))
        .where(or_(clocks.c.met_at.is_(None), clocks.c.met_at > as_of))
        .where(cases.c.region >= region_prefix)
        .group_by(district, clocks.c.escalated_level)
    )
    following = next_prefix(region_prefix)
    if following is not None:
        query = query.where(cases.c.region < following)
    return [(str(d), level, int(n)) for d, level, n in conn.execute(query).all()]


def cases_of(
    conn: Connection,
    unit_id: str | None,
    region_prefix: str | None,
    stages: Sequence[str],
    due_before: datetime | None,
    limit: int,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of the work list: the `xinfang case list` query, by unit or region prefix."""
    found = find_cases(conn, CaseFilter(stages, unit_id, region_prefix, due_before), limit)
    return found.rows, found.more
