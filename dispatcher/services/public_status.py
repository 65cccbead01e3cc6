"""What anyone may be told of a case without its query code: where it stands, which body is
responsible, when the running duty is due and what the written reply decided. Never the
petitioner, and nothing the petitioner wrote: the regulation (信访工作条例 2022) has the
petitioner's information and the petition's content kept confidential, so the case's title,
content, place and identity are not even read.

The reads are indexed (queries: dispatcher/adapters/db/public_status.py): cases by their
number, or by received_at within a bounded window (ix_cases_received_at), and their events by
case (ix_events_case_id), never a scan of every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from dispatcher.domain.stages import TERMINAL, Stage


@dataclass(frozen=True)
class Window:
    """Cases received from `since` to `until` (both included), at most `limit` of them, the
    latest first; `categories` and `stages` narrow it when given."""

    since: datetime
    until: datetime
    limit: int
    categories: Sequence[str] = ()
    stages: Sequence[Stage] = ()


@dataclass(frozen=True)
class PublicStatus:
    case_id: str
    stage: Stage
    category: str | None
    unit: str | None  # the responsible unit's name, once assigned
    received_at: datetime
    updated_at: datetime  # the latest event's time
    due_at: datetime | None  # the earliest running duty clock's deadline

    @property
    def closed(self) -> bool:
        return self.stage in TERMINAL


class StatusQueries(Protocol):
    """The reads (dispatcher.adapters.db.public_status provides them)."""

    def cases_by_id(self, conn: Connection, case_ids: Sequence[str]) -> list[dict[str, Any]]: ...

    def cases_received(self, conn: Connection, window: Window) -> list[dict[str, Any]]: ...

    def latest_events(self, conn: Connection, case_ids: Sequence[str]) -> dict[str, datetime]: ...


class PublicStatuses:
    def __init__(self, engine: Engine, queries: StatusQueries) -> None:
        self._engine, self._queries = engine, queries

    def of(self, case_ids: Sequence[str]) -> list[PublicStatus]:
        """The statuses of the cases of these numbers that exist, in the order asked."""
        with self._engine.connect() as conn:
            rows = self._queries.cases_by_id(conn, list(dict.fromkeys(case_ids)))
            found = self._statuses(conn, rows)
        by_id = {status.case_id: status for status in found}
        return [by_id[case_id] for case_id in dict.fromkeys(case_ids) if case_id in by_id]

    def received(self, window: Window) -> list[PublicStatus]:
        with self._engine.connect() as conn:
            return self._statuses(conn, self._queries.cases_received(conn, window))

    def _statuses(self, conn: Connection, rows: list[dict[str, Any]]) -> list[PublicStatus]:
        latest = self._queries.latest_events(conn, [row["case_id"] for row in rows])
        return [_status(row, latest.get(row["case_id"])) for row in rows]


def _status(row: dict[str, Any], latest: datetime | None) -> PublicStatus:
    return PublicStatus(
        case_id=row["case_id"],
        stage=Stage(row["stage"]),
        category=row["category"],
        unit=row["org_unit_name"],
        received_at=row["received_at"],
        updated_at=latest or row["registered_at"],
        due_at=row["next_due_at"],
    )
