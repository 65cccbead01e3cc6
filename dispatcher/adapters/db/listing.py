"""Finding cases for `xinfang case list`, with SQLAlchemy Core: every filter an indexed one, and
about a page of rows read (a page per stage asked for), however many cases are stored.

The order is the earliest due of a case's running duty clocks (cases.next_due_at, written with
its clock rows), then registration. The cases with such a clock are read first, in that order;
those without one, while the page is not full, in order of registration. Each read goes along
an index that its filter leads and that goes on in the order wanted (tables.py, migration
0007). The petitioner's identity is never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select, union_all

from dispatcher.adapters.db.tables import cases


@dataclass(frozen=True)
class CaseFilter:
    stages: Sequence[str] = ()  # any of these; none: every stage
    unit: str | None = None  # the org unit id, as 500103:housing
    region: str | None = None  # a region code prefix: 500103 is the district and all below it
    due_before: datetime | None = None  # only cases with a running duty clock due before this


@dataclass(frozen=True)
class Found:
    rows: list[dict[str, Any]]
    more: bool  # more cases match than the limit let through


_COLUMNS = (
    cases.c.case_id,
    cases.c.source,
    cases.c.external_id,
    cases.c.stage,
    cases.c.region,
    cases.c.org_unit_id,
    cases.c.org_unit_name,
    cases.c.title,
    cases.c.registered_at,
    cases.c.next_clock.label("clock"),
    cases.c.next_due_at.label("due_at"),
)
# The cases without a running clock are ordered so too (their next_due_at all NULL: by
# registration), so that PostgreSQL sees the order of the indexes it reads them from; NULLs
# are equal in either database's ordering, and never mixed with dues (they are read apart).
_ORDER = (cases.c.next_due_at, cases.c.registered_at, cases.c.case_id)


def find_cases(conn: Connection, where: CaseFilter, limit: int) -> Found:
    """The cases that match, the earliest due of a running duty clock first, then by
    registration."""
    rows = _fetch(conn, _page(where, True, limit + 1))
    if len(rows) <= limit and where.due_before is None:
        rows += _fetch(conn, _page(where, False, limit + 1 - len(rows)))
    return Found(rows[:limit], more=len(rows) > limit)


def _fetch(conn: Connection, query: Select[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(query).mappings()]


def _page(where: CaseFilter, with_clock: bool, limit: int) -> Select[Any]:
    """The first `limit` cases with a running duty clock (or without one) that match."""
    query = select(*_COLUMNS).where(*_conditions(where, with_clock))
    stages = sorted(set(where.stages))
    if len(stages) <= 1:
        query = query.where(*(cases.c.stage == stage for stage in stages))
        return query.order_by(*_ORDER).limit(limit)
    # One ordered read per stage, then those few rows merged: an IN list over the index's
    # first column would be read whole and sorted. (SQLite takes no ORDER BY inside a
    # compound select, hence each branch in a subquery.)
    branches = [
        select(query.where(cases.c.stage == stage).order_by(*_ORDER).limit(limit).subquery())
        for stage in stages
    ]
    merged = union_all(*branches).subquery("by_stage")
    order = (merged.c.due_at, merged.c.registered_at, merged.c.case_id)
    return select(merged).order_by(*order).limit(limit)


def _conditions(where: CaseFilter, with_clock: bool) -> list[ColumnElement[bool]]:
    due = cases.c.next_due_at
    conditions: list[ColumnElement[bool]] = [due.is_not(None) if with_clock else due.is_(None)]
    if with_clock and where.due_before is not None:
        conditions.append(due < where.due_before)
    if where.unit is not None:
        conditions.append(cases.c.org_unit_id == where.unit)
    if where.region:
        conditions.append(cases.c.region >= where.region)
        following = next_prefix(where.region)
        if following is not None:
            conditions.append(cases.c.region < following)
    return conditions


def next_prefix(prefix: str) -> str | None:
    """The least digit string above every code that starts with `prefix` (500103 → 500104,
    5001039 → 500104), None when there is none (99). A range rather than LIKE 'p%': a btree
    index answers it under any collation, where LIKE needs C or text_pattern_ops on
    PostgreSQL; and a digit bound rather than p || '~', which ICU collations sort below
    5001031."""
    if not prefix.isascii() or not prefix.isdigit():
        raise ValueError(f"{prefix!r} is not a region code prefix")
    kept = prefix.rstrip("9")
    if not kept:
        return None
    return kept[:-1] + str(int(kept[-1]) + 1)
