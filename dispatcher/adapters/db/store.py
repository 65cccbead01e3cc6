"""Reading and writing cases and events with SQLAlchemy Core, inside the caller's transaction."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    tuple_,
    update,
)

from dispatcher.adapters.db.tables import (
    api_keys,
    case_links,
    case_parties,
    cases,
    clocks,
    commands,
    events,
    query_codes,
    rejected_messages,
    secrets_table,
)
from dispatcher.domain.case import Assignment, Case
from dispatcher.domain.channels import Channel
from dispatcher.domain.escalation import Indexed, Position
from dispatcher.domain.events import Event, EventType
from dispatcher.domain.ladders import ESCALATED_CLOCKS
from dispatcher.domain.query_codes import StoredCode
from dispatcher.domain.regions import Region
from dispatcher.domain.stages import CaseKind, Stage
from dispatcher.domain.state import Recorded
from dispatcher.domain.timeline import ClockView
from dispatcher.services.ports import ClockRows


def insert_cases(conn: Connection, new: Sequence[Case]) -> None:
    """Register cases in one statement."""
    if new:
        conn.execute(insert(cases), [_case_row(case) for case in new])


def _case_row(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "source": case.source,
        "external_id": case.external_id,
        "channel": case.channel.value,
        "region": case.region.code,
        "category": case.category,
        "title": case.title,
        "content": case.content,
        "petitioner": case.petitioner,
        "people_count": case.people_count,
        "urgent": case.urgent,
        "attachments": case.attachments,
        "extra": case.extra,
        "received_at": case.received_at,
        "registered_at": case.registered_at,
        "stage": case.stage.value,
    }


def find_case(conn: Connection, source: str, external_id: str) -> tuple[str, Stage] | None:
    row = conn.execute(
        select(cases.c.case_id, cases.c.stage).where(
            cases.c.source == source, cases.c.external_id == external_id
        )
    ).first()
    return (row.case_id, Stage(row.stage)) if row else None


Key = tuple[str, str]  # (source, external_id)


def find_known(
    conn: Connection, keys: Sequence[Key]
) -> tuple[dict[Key, tuple[str, Stage]], dict[Key, tuple[str, str]]]:
    """For many intake messages at once: the cases they opened, {key: (case_id, stage)}, and
    the cases they joined, {key: (case_id, link kind)}. Two indexed queries."""
    if not keys:
        return {}, {}
    opened = conn.execute(
        select(cases.c.source, cases.c.external_id, cases.c.case_id, cases.c.stage).where(
            tuple_(cases.c.source, cases.c.external_id).in_(keys)
        )
    )
    joined = conn.execute(
        select(
            case_links.c.source, case_links.c.external_id, case_links.c.case_id, case_links.c.kind
        ).where(tuple_(case_links.c.source, case_links.c.external_id).in_(keys))
    )
    return (
        {(r.source, r.external_id): (r.case_id, Stage(r.stage)) for r in opened},
        {(r.source, r.external_id): (r.case_id, r.kind) for r in joined},
    )


def load_case(conn: Connection, case_id: str) -> Case | None:
    row = conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()
    return _case_from_row(row) if row else None


def lock_cases(conn: Connection, case_ids: Sequence[str]) -> dict[str, Case]:
    """Many cases by id, their rows locked in id order where the database can (so that two
    workers routing overlapping batches never wait on each other in a cycle)."""
    query = select(cases).where(cases.c.case_id.in_(case_ids)).order_by(cases.c.case_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row["case_id"]: _case_from_row(row) for row in conn.execute(query).mappings()}


def _case_from_row(row: Any) -> Case:
    case = Case(
        case_id=row["case_id"],
        source=row["source"],
        external_id=row["external_id"],
        channel=Channel(row["channel"]),
        received_at=row["received_at"],
        region=Region(row["region"]),
        title=row["title"],
        content=row["content"],
        registered_at=row["registered_at"],
        category=row["category"],
        people_count=row["people_count"],
        urgent=row["urgent"],
        petitioner=row["petitioner"],
        attachments=row["attachments"],
        extra=row["extra"],
        stage=Stage(row["stage"]),
        assigned_at=row["assigned_at"],
    )
    if row["org_unit_id"]:
        case.assignment = Assignment(
            outcome=Stage(row["stage"]),
            org_unit_id=row["org_unit_id"],
            org_unit_name=row["org_unit_name"],
            org_kind=row["org_kind"],
            rule_id=row["rule_id"],
            reasons=tuple(row["rule_reasons"] or ()),
            warnings=tuple(row["rule_warnings"] or ()),
            ruleset_version=row["ruleset_version"],
        )
    return case


def save_assignments(conn: Connection, routed: Sequence[Case], previous: Stage) -> int:
    """Write many routing decisions in one round trip (executemany), each only if its case
    is still at `previous`; how many were written."""
    if not routed:
        return 0
    statement = (
        update(cases)
        .where(cases.c.case_id == bindparam("routed_id"), cases.c.stage == previous.value)
        .values(
            stage=bindparam("new_stage"),
            org_unit_id=bindparam("unit_id"),
            org_unit_name=bindparam("unit_name"),
            org_kind=bindparam("unit_kind"),
            rule_id=bindparam("rule"),
            rule_reasons=bindparam("reasons", type_=cases.c.rule_reasons.type),
            rule_warnings=bindparam("warnings", type_=cases.c.rule_warnings.type),
            ruleset_version=bindparam("version"),
            assigned_at=bindparam("at", type_=cases.c.assigned_at.type),
            policy=bindparam("clock_policy"),
        )
    )
    rows = []
    for case in routed:
        assignment = case.assignment
        assert assignment is not None
        rows.append(
            {
                "routed_id": case.case_id,
                "new_stage": case.stage.value,
                "unit_id": assignment.org_unit_id,
                "unit_name": assignment.org_unit_name,
                "unit_kind": assignment.org_kind,
                "rule": assignment.rule_id,
                "reasons": list(assignment.reasons),
                "warnings": list(assignment.warnings),
                "version": assignment.ruleset_version,
                "at": case.assigned_at,
                "clock_policy": assignment.policy,
            }
        )
    return conn.execute(statement, rows).rowcount


def append_event(conn: Connection, event: Event, event_id: str | None = None) -> str:
    return append_events(conn, [(event, event_id)])[0]


# Set on a database connection that appended events in its transaction (its pool record's
# info, which lives as long as the connection): the composition root wakes the relay when such
# a connection comes back to the pool committed (see bootstrap.app.wake_on_committed_events).
EVENTS_WRITTEN = "xinfang.events_written"


def append_events(conn: Connection, batch: Sequence[tuple[Event, str | None]]) -> list[str]:
    """Append events in one statement, in order; their event_ids."""
    ids = [event_id or str(uuid.uuid4()) for _event, event_id in batch]
    if batch:
        conn.info[EVENTS_WRITTEN] = True
        conn.execute(
            insert(events),
            [
                {
                    "event_id": event_id,
                    "type": event.type.value,
                    "case_id": event.case_id,
                    "source": event.source,
                    "external_id": event.external_id,
                    "at": event.at,
                    "data": event.data,
                }
                for (event, _given), event_id in zip(batch, ids, strict=True)
            ],
        )
    return ids


def case_events(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(events).where(events.c.case_id == case_id).order_by(events.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def unpublished_events(conn: Connection, limit: int) -> Sequence[Any]:
    """The oldest unpublished events, locked so that relays running side by side share the
    work instead of publishing the same rows (SKIP LOCKED; SQLite has one writer anyway)."""
    query = select(events).where(events.c.published_at.is_(None)).order_by(events.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return conn.execute(query).mappings().all()


def mark_published(conn: Connection, ids: Sequence[int], at: datetime) -> None:
    conn.execute(update(events).where(events.c.id.in_(ids)).values(published_at=at))


def record_rejection(
    conn: Connection, digest: str, code: str, reason: str, routing_key: str, at: datetime
) -> int:
    result = conn.execute(
        insert(rejected_messages).values(
            digest=digest,
            code=code,
            reason=reason,
            routing_key=routing_key,
            received_at=at,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def latest_rejection(conn: Connection, digest: str) -> tuple[int, bool] | None:
    """The latest rejection of a message with this digest: (id, dead-lettered already)."""
    row = conn.execute(
        select(rejected_messages.c.id, rejected_messages.c.dead_lettered_at)
        .where(rejected_messages.c.digest == digest)
        .order_by(rejected_messages.c.id.desc())
        .limit(1)
    ).first()
    return (int(row.id), row.dead_lettered_at is not None) if row else None


def mark_dead_lettered(conn: Connection, rejection_id: int, at: datetime) -> None:
    conn.execute(
        update(rejected_messages)
        .where(rejected_messages.c.id == rejection_id)
        .values(dead_lettered_at=at)
    )


def count_by(conn: Connection, column: str) -> dict[str, int]:
    col = cases.c[column]
    rows = conn.execute(select(col, func.count()).group_by(col))
    return {str(key): int(n) for key, n in rows}


# ---- the lifecycle -------------------------------------------------------------------------


def lock_case(conn: Connection, case_id: str) -> Any | None:
    """The case row, locked for this transaction where the database can (commands on one case
    are applied one at a time)."""
    query = select(cases).where(cases.c.case_id == case_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def history(conn: Connection, case_id: str) -> list[Recorded]:
    rows = conn.execute(
        select(events.c.type, events.c.at, events.c.data)
        .where(events.c.case_id == case_id)
        .order_by(events.c.id)
    )
    known = {member.value for member in EventType}
    return [Recorded(EventType(row.type), row.at, row.data) for row in rows if row.type in known]


def histories(conn: Connection, case_ids: Sequence[str]) -> dict[str, list[Recorded]]:
    """The histories of many cases in one indexed query; a case without events has []."""
    found: dict[str, list[Recorded]] = {case_id: [] for case_id in case_ids}
    rows = conn.execute(
        select(events.c.case_id, events.c.type, events.c.at, events.c.data)
        .where(events.c.case_id.in_(case_ids))
        .order_by(events.c.id)
    )
    known = {member.value for member in EventType}
    for row in rows:
        if row.type in known:
            found[row.case_id].append(Recorded(EventType(row.type), row.at, row.data))
    return found


def set_stage(conn: Connection, case_id: str, stage: Stage) -> None:
    conn.execute(update(cases).where(cases.c.case_id == case_id).values(stage=stage.value))


def set_org_unit(conn: Connection, case_id: str, unit: dict[str, str], at: datetime) -> None:
    conn.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(
            org_unit_id=unit["id"],
            org_unit_name=unit["name"],
            org_kind=unit["kind"],
            assigned_at=at,
        )
    )


def insert_linked_case(
    conn: Connection, parent: Any, case_id: str, kind: CaseKind, unit: dict[str, str], at: datetime
) -> None:
    """A review (复查) or re-review (复核) case: the parent's matter at the next-higher body."""
    values = {
        key: parent[key]
        for key in (
            "source",
            "channel",
            "region",
            "category",
            "title",
            "content",
            "petitioner",
            "people_count",
            "urgent",
            "attachments",
            "extra",
            "received_at",
            "policy",
        )
    }
    conn.execute(
        insert(cases).values(
            **values,
            case_id=case_id,
            external_id=f"{parent['external_id']}#{kind.value}",
            registered_at=at,
            stage=Stage.ACCEPTED.value,
            kind=kind.value,
            parent_case_id=parent["case_id"],
            org_unit_id=unit["id"],
            org_unit_name=unit["name"],
            org_kind=unit["kind"],
            assigned_at=at,
        )
    )


def replace_clocks(
    conn: Connection,
    case_id: str,
    views: Sequence[ClockView],
    at: datetime,
    positions: Mapping[str, Position] | None = None,
) -> None:
    replace_clocks_many(conn, [ClockRows(case_id, views, at, positions or {})])


def replace_clocks_many(
    conn: Connection, cases_rows: Sequence[ClockRows], fresh: bool = False
) -> None:
    """Rewrite the clock rows of many cases, and each case's earliest running deadline, in
    three statements. `fresh`: the cases were registered in this transaction and have no rows
    yet, so nothing is deleted."""
    if not cases_rows:
        return
    if not fresh:
        conn.execute(delete(clocks).where(clocks.c.case_id.in_([c.case_id for c in cases_rows])))
    rows = [_clock_row(c, view) for c in cases_rows for view in c.views]
    if rows:
        conn.execute(insert(clocks), rows)
    _write_next_due(conn, cases_rows, fresh)


_NEXT_DUE = (
    update(cases)
    .where(cases.c.case_id == bindparam("next_of"))
    .values(
        next_clock=bindparam("next_name"),
        next_due_at=bindparam("next_at", type_=cases.c.next_due_at.type),
    )
)


def _write_next_due(conn: Connection, cases_rows: Sequence[ClockRows], fresh: bool) -> None:
    """cases.next_clock and next_due_at from the clocks just written, in one executemany (a
    fresh case's are NULL already, so only those with a running clock are written)."""
    values = []
    for rows in cases_rows:
        name, due_at = next_due(rows.views)
        if name is not None or not fresh:
            values.append({"next_of": rows.case_id, "next_name": name, "next_at": due_at})
    if values:
        conn.execute(_NEXT_DUE, values)


def next_due(views: Sequence[ClockView]) -> tuple[str | None, datetime | None]:
    """The running duty clock due first (the rows `_clock_row` writes with met_at NULL and a
    due, of ESCALATED_CLOCKS: a party's windows are no one's deadline), and its due."""
    running = [
        (view.due_at, view.name)
        for view in views
        if view.is_open and view.due_at is not None and view.name in ESCALATED_CLOCKS
    ]
    if not running:
        return None, None
    due_at, name = min(running)
    return name, due_at


def _clock_row(rows: ClockRows, view: ClockView) -> dict[str, Any]:
    return {
        "case_id": rows.case_id,
        "name": view.name,
        "started_at": view.started_at,
        "due_at": view.due_at,
        "met_at": None if view.is_open else (view.met_at or rows.at),
        "status": view.status,
        "article": view.article,
        "updated_at": rows.at,
        "period": view.period or None,
        **_position_columns(rows.positions.get(view.name, NO_POSITION)),
    }


NO_POSITION = Position()


def _position_columns(where: Position) -> dict[str, Any]:
    return {
        "ladder": where.ladder,
        "next_step": where.next_step,
        "next_step_at": where.next_step_at,
        "escalated_step": where.escalated_step,
        "escalated_level": where.escalated_level,
        "escalated_at": where.escalated_at,
    }


def find_command(conn: Connection, command_id: str) -> Any | None:
    return conn.execute(select(commands).where(commands.c.command_id == command_id)).first()


def record_command(
    conn: Connection,
    command_id: str,
    case_id: str | None,
    action: str,
    outcome: str,
    reason: str | None,
    at: datetime,
) -> None:
    conn.execute(
        insert(commands).values(
            command_id=command_id,
            case_id=case_id,
            action=action,
            outcome=outcome,
            reason=reason,
            received_at=at,
        )
    )


def load_case_row(conn: Connection, case_id: str) -> Any | None:
    return conn.execute(select(cases).where(cases.c.case_id == case_id)).mappings().first()


def parent_of(conn: Connection, case_id: str) -> str | None:
    return conn.scalar(select(cases.c.parent_case_id).where(cases.c.case_id == case_id))


# ---- repeat and collective petitions ---------------------------------------------------------


def lock_matter(conn: Connection, names: Iterable[str]) -> None:
    """Hold these names until the transaction ends, so that intakes looking up the same party
    or matter run one after the other: without it both search, find nothing and both open a
    case. Taken first, so that under READ COMMITTED (PostgreSQL's default) every later
    statement sees what the other committed. Advisory locks, taken in sorted order (a batch's
    names in one statement) so that no two intakes wait on each other in a cycle. SQLite
    needs none: its one writer serialises intakes already (the loser's write fails as
    "database is locked" and is retried)."""
    keys = sorted({_advisory_key(name) for name in names})
    if conn.dialect.name != "postgresql" or not keys:
        return
    # OFFSET 0 keeps the sorted subquery apart, so that the locks are taken in its order.
    conn.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT k FROM unnest(CAST(:keys AS bigint[])) AS k ORDER BY k OFFSET 0) AS sorted"
        ),
        {"keys": keys},
    )


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for a name (a collision only serialises a little more)."""
    digest = hashlib.blake2b(f"xinfang:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def read_secret(conn: Connection, name: str) -> str | None:
    return conn.scalar(select(secrets_table.c.value).where(secrets_table.c.name == name))


def insert_query_code(conn: Connection, case_id: str, code: StoredCode, at: datetime) -> None:
    conn.execute(
        insert(query_codes).values(
            case_id=case_id, salt=code.salt.hex(), digest=code.digest.hex(), issued_at=at
        )
    )


def replace_query_code(conn: Connection, case_id: str, code: StoredCode, at: datetime) -> bool:
    """Make `code` the case's only query code; whether it replaced an earlier one. A delete and
    an insert in the caller's transaction, the same SQL on SQLite and PostgreSQL: the caller
    holds the case's row lock, so that two issues for one case run one after the other."""
    replaced = conn.execute(delete(query_codes).where(query_codes.c.case_id == case_id))
    insert_query_code(conn, case_id, code, at)
    return bool(replaced.rowcount)


def query_code(conn: Connection, case_id: str) -> StoredCode | None:
    row = conn.execute(
        select(query_codes.c.salt, query_codes.c.digest).where(query_codes.c.case_id == case_id)
    ).first()
    return StoredCode(bytes.fromhex(row.salt), bytes.fromhex(row.digest)) if row else None


def insert_api_key(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(insert(api_keys).values(**row))


def api_key(conn: Connection, key_id: str) -> dict[str, Any] | None:
    """A key's row by its id (the primary key), revoked or not."""
    row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
    return dict(row) if row else None


def all_api_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every key, without its digest: a table of a few rows per producer."""
    columns = [c for c in api_keys.c if c.name != "digest"]
    query = select(*columns).order_by(api_keys.c.source, api_keys.c.created_at)
    return [dict(row) for row in conn.execute(query).mappings()]


def revoke_api_key(conn: Connection, key_id: str, at: datetime) -> bool:
    """Whether a key that was not yet revoked is revoked now."""
    done = conn.execute(
        update(api_keys)
        .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(done.rowcount)


def add_parties(
    conn: Connection,
    case_id: str,
    keys: Sequence[tuple[str, str]],
    role: str,
    at: datetime,
    fresh: bool = False,
) -> None:
    """Record (key_kind, party_key) pairs on a case; keys it already has are left as they are
    (`fresh`: the case is new in this transaction and has none). One key given twice (the same
    number as ID number and as phone) is recorded once: the key, not the pair, is what
    identifies a party."""
    first_kind = {key: kind for kind, key in reversed(keys)}
    if not first_kind:
        return
    have = (
        set()
        if fresh
        else set(
            conn.scalars(select(case_parties.c.party_key).where(case_parties.c.case_id == case_id))
        )
    )
    rows = [
        {"case_id": case_id, "party_key": key, "key_kind": kind, "role": role, "added_at": at}
        for key, kind in first_kind.items()
        if key not in have
    ]
    if rows:
        conn.execute(insert(case_parties), rows)


def insert_parties(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Party rows (case_id, party_key, key_kind, role, added_at) of cases new in this
    transaction, in one statement."""
    if rows:
        conn.execute(insert(case_parties), list(rows))


def insert_link(
    conn: Connection, source: str, external_id: str, case_id: str, kind: str, at: datetime
) -> None:
    conn.execute(
        insert(case_links).values(
            source=source, external_id=external_id, case_id=case_id, kind=kind, linked_at=at
        )
    )


_MATTER_COLUMNS = (
    cases.c.case_id,
    cases.c.region,
    cases.c.category,
    cases.c.title,
    func.substr(cases.c.content, 1, 500).label("content"),
    cases.c.received_at,
    cases.c.stage,
    cases.c.org_unit_id,
    cases.c.people_count,
)


def _ranked(query: Select[Any], *partition: Any) -> Select[Any]:
    """At most :limit rows per partition, the latest received first."""
    rank = func.row_number().over(partition_by=partition, order_by=cases.c.received_at.desc())
    ranked = query.add_columns(rank.label("rank")).subquery()
    return select(ranked).where(ranked.c.rank <= bindparam("limit"))


# Built once: these run for every intake batch, and building them costs more than running.
# The party keys first, as a fence the planner keeps: read from their own index, then each
# case by its key, however many cases the window holds.
_PARTIES = (
    select(case_parties.c.case_id, case_parties.c.party_key)
    .where(case_parties.c.party_key.in_(bindparam("keys", expanding=True)))
    .cte("parties")
    .prefix_with("MATERIALIZED")
)
_OF_PARTIES = _ranked(
    select(*_MATTER_COLUMNS, _PARTIES.c.party_key)
    .select_from(_PARTIES.join(cases, cases.c.case_id == _PARTIES.c.case_id))
    .where(
        cases.c.kind == CaseKind.ORIGINAL.value,
        cases.c.received_at.between(bindparam("since"), bindparam("until"))
        | (cases.c.stage == Stage.FINAL.value),
    ),
    _PARTIES.c.party_key,
)
_AT_PLACES = select(*_MATTER_COLUMNS).where(
    tuple_(cases.c.region, cases.c.category).in_(bindparam("places", expanding=True)),
    cases.c.received_at.between(bindparam("since"), bindparam("until")),
    cases.c.kind == CaseKind.ORIGINAL.value,
    cases.c.stage.not_in(bindparam("terminal", expanding=True)),
)
_AT_PLACES_ANY = _ranked(_AT_PLACES, cases.c.region, cases.c.category)
_AT_PLACES_COLLECTIVE = _ranked(
    _AT_PLACES.where(cases.c.people_count > 1), cases.c.region, cases.c.category
)


def cases_of_parties(
    conn: Connection, party_keys: Sequence[str], since: datetime, until: datetime, limit: int = 200
) -> Sequence[Any]:
    """Original cases with any of these party keys, received in [since, until] or final (a
    re-reviewed matter stays refused however old it is, Art 36): a row per case and key, the
    key as party_key. At most `limit` per key, the latest first."""
    if not party_keys:
        return []
    values = {"keys": list(party_keys), "since": since, "until": until, "limit": limit}
    return conn.execute(_OF_PARTIES, values).mappings().all()


def collective_candidates(
    conn: Connection,
    places: Sequence[tuple[str, str]],
    since: datetime,
    until: datetime,
    terminal: Sequence[str],
    collective_only: bool,
    limit: int = 500,
) -> Sequence[Any]:
    """Original, not finished cases of these (region code, category) places received in
    [since, until]: the cases a collective petition may join. `collective_only`: only those
    of many petitioners (what a one-person petition can join), read from their own partial
    index. At most `limit` per place, the latest first."""
    if not places:
        return []
    query = _AT_PLACES_COLLECTIVE if collective_only else _AT_PLACES_ANY
    values = {
        "places": list(places),
        "since": since,
        "until": until,
        "terminal": list(terminal),
        "limit": limit,
    }
    return conn.execute(query, values).mappings().all()


def add_people(conn: Connection, case_id: str, people: int) -> int:
    """Add to a collective case's people_count; the new count."""
    conn.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(people_count=cases.c.people_count + people)
    )
    return int(conn.scalar(select(cases.c.people_count).where(cases.c.case_id == case_id)) or 0)


def indexed_clocks(conn: Connection, case_id: str) -> list[Indexed]:
    """The case's clock rows as the index holds them (its primary key's prefix)."""
    rows = conn.execute(
        select(
            clocks.c.name, clocks.c.period, clocks.c.escalated_step, clocks.c.escalated_level
        ).where(clocks.c.case_id == case_id)
    )
    return [Indexed(r.name, r.period, r.escalated_step, r.escalated_level) for r in rows]
