"""Escalation steps and notification deliveries, with SQLAlchemy Core inside the caller's
transaction. Every query of the sweep and the senders is an indexed one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dispatcher.adapters.db.tables import cases, clocks, escalations, notifications, versions
from dispatcher.domain.ladders import ESCALATED_CLOCKS
from dispatcher.domain.notifications import Notification, Status

# ---- the sweep -----------------------------------------------------------------------------


def clocks_due(conn: Connection, as_of: datetime, limit: int) -> list[tuple[str, str]]:
    """(case_id, clock) of every clock whose next ladder step is due (ix_clocks_next_step_at)."""
    rows = conn.execute(
        select(clocks.c.case_id, clocks.c.name)
        .where(clocks.c.next_step_at.is_not(None), clocks.c.next_step_at <= as_of)
        .order_by(clocks.c.next_step_at)
        .limit(limit)
    )
    return [(r.case_id, r.name) for r in rows]


def open_clock_keys(
    conn: Connection, after: tuple[str, str] | None, limit: int
) -> list[tuple[str, str]]:
    """Open clocks in primary-key order, a page at a time: what a re-plan walks over."""
    query = select(clocks.c.case_id, clocks.c.name).where(clocks.c.met_at.is_(None))
    if after is not None:
        query = query.where(
            or_(
                clocks.c.case_id > after[0],
                and_(clocks.c.case_id == after[0], clocks.c.name > after[1]),
            )
        )
    rows = conn.execute(query.order_by(clocks.c.case_id, clocks.c.name).limit(limit))
    return [(r.case_id, r.name) for r in rows]


def take_step(
    conn: Connection,
    case_id: str,
    clock: str,
    period: str,
    previous: str | None,
    record: Mapping[str, Any],
) -> int | None:
    """Claim a step: a conditional update of the clock's row (from the step the caller saw
    last), then the step's unique record. None if another sweep got there first."""
    moved = conn.execute(
        update(clocks)
        .where(
            clocks.c.case_id == case_id,
            clocks.c.name == clock,
            clocks.c.period == period,
            clocks.c.escalated_step.is_not_distinct_from(previous),
        )
        .values(escalated_step=record["step"])
    )
    if moved.rowcount != 1:
        return None
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    inserted = conn.execute(
        dialect.insert(escalations)
        .values(**record)
        .on_conflict_do_nothing(index_elements=["case_id", "clock", "period", "step"])
        .returning(escalations.c.id)
    ).first()
    return None if inserted is None else int(inserted[0])


def escalations_of(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(escalations).where(escalations.c.case_id == case_id).order_by(escalations.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def overdue(
    conn: Connection,
    as_of: datetime,
    region: str | None,
    level: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Duty clocks past their deadline and not met by `as_of` (ix_clocks_overdue), with
    their case and ladder."""
    query = (
        select(
            clocks.c.case_id,
            clocks.c.name.label("clock"),
            clocks.c.due_at,
            clocks.c.article,
            clocks.c.ladder,
            clocks.c.escalated_step,
            clocks.c.escalated_level,
            clocks.c.next_step,
            clocks.c.next_step_at,
            cases.c.source,
            cases.c.external_id,
            cases.c.region,
            cases.c.org_unit_id,
            cases.c.org_unit_name,
            cases.c.title,
            cases.c.stage,
        )
        .join(cases, cases.c.case_id == clocks.c.case_id)
        .where(clocks.c.due_at < as_of, clocks.c.started_at <= as_of)
        .where(clocks.c.name.in_(ESCALATED_CLOCKS))
        # Open then: a clock met after `as_of` was still overdue at that moment (a replay).
        .where(or_(clocks.c.met_at.is_(None), clocks.c.met_at > as_of))
    )
    if region:
        query = query.where(cases.c.region.startswith(region, autoescape=True))
    if level:
        query = query.where(clocks.c.escalated_level == level)
    rows = conn.execute(query.order_by(clocks.c.due_at).limit(limit)).mappings()
    return [dict(row) for row in rows]


# ---- notifications -------------------------------------------------------------------------


def add_notifications(
    conn: Connection,
    escalation_id: int,
    case_id: str,
    items: Sequence[tuple[Notification, Status]],
    at: datetime,
) -> None:
    if not items:
        return
    conn.execute(
        insert(notifications),
        [
            {
                "id": n.id,
                "escalation_id": escalation_id,
                "case_id": case_id,
                "channel": n.channel.value,
                "recipient": n.recipient,
                "recipient_name": n.recipient_name,
                "role": n.role,
                "payload": dict(n.payload),
                "status": status.value,
                "attempts": 0,
                "last_error": "channel not configured" if status is Status.SKIPPED else None,
                "created_at": at,
                "next_attempt_at": at if status is Status.PENDING else None,
            }
            for n, status in items
        ],
    )


def claim_delivery(
    conn: Connection, notification_id: str, now: datetime, lease_until: datetime
) -> Any | None:
    """Take a notification for one attempt: pending and due, or left `sending` by a sender
    that died (its lease ran out). None if it is not to be sent now."""
    claimable = or_(
        and_(notifications.c.status == Status.PENDING.value),
        and_(
            notifications.c.status == Status.SENDING.value,
            notifications.c.next_attempt_at < now,
        ),
    )
    taken = conn.execute(
        update(notifications)
        .where(notifications.c.id == notification_id, claimable)
        .values(
            status=Status.SENDING.value,
            attempts=notifications.c.attempts + 1,
            next_attempt_at=lease_until,
        )
    )
    if taken.rowcount != 1:
        return None
    return (
        conn.execute(select(notifications).where(notifications.c.id == notification_id))
        .mappings()
        .first()
    )


def finish_delivery(
    conn: Connection,
    notification_id: str,
    status: Status,
    *,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
    sent_at: datetime | None = None,
) -> None:
    conn.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(
            status=status.value,
            last_error=error,
            next_attempt_at=next_attempt_at,
            sent_at=sent_at,
        )
    )


def deliveries_due(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Notifications whose attempt is due: pending (a lost message, a retry) or stuck sending
    past their lease (ix_notifications_status_next)."""
    rows = conn.execute(
        select(notifications.c.id)
        .where(
            notifications.c.status.in_((Status.PENDING.value, Status.SENDING.value)),
            notifications.c.next_attempt_at <= now,
        )
        .order_by(notifications.c.next_attempt_at)
        .limit(limit)
    )
    return [r.id for r in rows]


def notifications_by_status(conn: Connection, status: Status, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(notifications)
        .where(notifications.c.status == status.value)
        .order_by(notifications.c.created_at)
        .limit(limit)
    ).mappings()
    return [dict(row) for row in rows]


def notifications_of(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(notifications)
        .where(notifications.c.case_id == case_id)
        .order_by(notifications.c.created_at, notifications.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def reopen_failed(conn: Connection, ids: Sequence[str] | None, now: datetime) -> list[str]:
    """Failed notifications back to pending with fresh attempts (all of them if ids is None)."""
    query = select(notifications.c.id).where(notifications.c.status == Status.FAILED.value)
    if ids is not None:
        query = query.where(notifications.c.id.in_(ids))
    chosen = [r.id for r in conn.execute(query)]
    if chosen:
        conn.execute(
            update(notifications)
            .where(notifications.c.id.in_(chosen))
            .values(status=Status.PENDING.value, attempts=0, next_attempt_at=now)
        )
    return chosen


def count_notifications(conn: Connection) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        select(notifications.c.channel, notifications.c.status, func.count()).group_by(
            notifications.c.channel, notifications.c.status
        )
    )
    return {(r[0], r[1]): int(r[2]) for r in rows}


# ---- versions --------------------------------------------------------------------------------


def read_version(conn: Connection, name: str) -> str | None:
    return conn.scalar(select(versions.c.value).where(versions.c.name == name))


def write_version(conn: Connection, name: str, value: str, at: datetime) -> None:
    done = conn.execute(
        update(versions).where(versions.c.name == name).values(value=value, updated_at=at)
    )
    if done.rowcount == 0:
        conn.execute(insert(versions).values(name=name, value=value, updated_at=at))
