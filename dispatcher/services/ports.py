"""What the services need from outside, as protocols: the adapters and `monitoring` provide them.

- `Store`: the queries of the hot path, each on a SQLAlchemy connection the service opened as
  its unit of work; `dispatcher.adapters.db.store` provides it, injected by the bootstrap.
- `Metrics`: the pipeline's counters; `monitoring.metrics.Metrics` provides it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from dispatcher.domain.case import Case
from dispatcher.domain.escalation import Indexed, Position
from dispatcher.domain.events import Event
from dispatcher.domain.query_codes import StoredCode
from dispatcher.domain.stages import CaseKind, Stage
from dispatcher.domain.state import Recorded
from dispatcher.domain.timeline import ClockView


@dataclass(frozen=True)
class ClockRows:
    """What one case's rows in `clocks` are to be: its clocks at `at`, with their ladders."""

    case_id: str
    views: Sequence[ClockView]
    at: datetime
    positions: Mapping[str, Position] = field(default_factory=dict)


class Store(Protocol):
    """Reads and writes of cases, their parties, links, events, rejections, commands and
    clocks. Every lookup is an indexed query."""

    def lock_matter(self, conn: Connection, names: Iterable[str]) -> None: ...

    def lock_case(self, conn: Connection, case_id: str) -> Any | None: ...

    def find_known(
        self, conn: Connection, keys: Sequence[tuple[str, str]]
    ) -> tuple[
        dict[tuple[str, str], tuple[str, Stage]], dict[tuple[str, str], tuple[str, str]]
    ]: ...

    def load_case(self, conn: Connection, case_id: str) -> Case | None: ...

    def lock_cases(self, conn: Connection, case_ids: Sequence[str]) -> dict[str, Case]: ...

    def load_case_row(self, conn: Connection, case_id: str) -> Any | None: ...

    def insert_cases(self, conn: Connection, new: Sequence[Case]) -> None: ...

    def insert_parties(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def insert_linked_case(
        self,
        conn: Connection,
        parent: Any,
        case_id: str,
        kind: CaseKind,
        unit: dict[str, str],
        at: datetime,
    ) -> None: ...

    def save_assignments(
        self, conn: Connection, routed: Sequence[Case], previous: Stage
    ) -> int: ...

    def set_stage(self, conn: Connection, case_id: str, stage: Stage) -> None: ...

    def set_org_unit(
        self, conn: Connection, case_id: str, unit: dict[str, str], at: datetime
    ) -> None: ...

    def add_parties(
        self,
        conn: Connection,
        case_id: str,
        keys: Sequence[tuple[str, str]],
        role: str,
        at: datetime,
    ) -> None: ...

    def add_people(self, conn: Connection, case_id: str, people: int) -> int: ...

    def insert_link(
        self,
        conn: Connection,
        source: str,
        external_id: str,
        case_id: str,
        kind: str,
        at: datetime,
    ) -> None: ...

    def cases_of_parties(
        self,
        conn: Connection,
        party_keys: Sequence[str],
        since: datetime,
        until: datetime,
        limit: int = 200,
    ) -> Sequence[Any]: ...

    def collective_candidates(
        self,
        conn: Connection,
        places: Sequence[tuple[str, str]],
        since: datetime,
        until: datetime,
        terminal: Sequence[str],
        collective_only: bool,
        limit: int = 500,
    ) -> Sequence[Any]: ...

    def append_event(self, conn: Connection, event: Event, event_id: str | None = None) -> str: ...

    def append_events(
        self, conn: Connection, batch: Sequence[tuple[Event, str | None]]
    ) -> list[str]: ...

    def history(self, conn: Connection, case_id: str) -> list[Recorded]: ...

    def histories(self, conn: Connection, case_ids: Sequence[str]) -> dict[str, list[Recorded]]: ...

    def case_events(self, conn: Connection, case_id: str) -> list[dict[str, Any]]: ...

    def insert_query_code(
        self, conn: Connection, case_id: str, code: StoredCode, at: datetime
    ) -> None: ...

    def replace_query_code(
        self, conn: Connection, case_id: str, code: StoredCode, at: datetime
    ) -> bool: ...

    def query_code(self, conn: Connection, case_id: str) -> StoredCode | None: ...

    def insert_api_key(self, conn: Connection, row: Mapping[str, Any]) -> None: ...

    def api_key(self, conn: Connection, key_id: str) -> dict[str, Any] | None: ...

    def all_api_keys(self, conn: Connection) -> list[dict[str, Any]]: ...

    def revoke_api_key(self, conn: Connection, key_id: str, at: datetime) -> bool: ...

    def record_rejection(
        self,
        conn: Connection,
        digest: str,
        code: str,
        reason: str,
        routing_key: str,
        at: datetime,
    ) -> int: ...

    def latest_rejection(self, conn: Connection, digest: str) -> tuple[int, bool] | None: ...

    def mark_dead_lettered(self, conn: Connection, rejection_id: int, at: datetime) -> None: ...

    def find_command(self, conn: Connection, command_id: str) -> Any | None: ...

    def record_command(
        self,
        conn: Connection,
        command_id: str,
        case_id: str | None,
        action: str,
        outcome: str,
        reason: str | None,
        at: datetime,
    ) -> None: ...

    def replace_clocks(
        self,
        conn: Connection,
        case_id: str,
        views: Sequence[ClockView],
        at: datetime,
        positions: Mapping[str, Position] | None = None,
    ) -> None: ...

    def replace_clocks_many(
        self, conn: Connection, cases_rows: Sequence[ClockRows], fresh: bool = False
    ) -> None: ...

    def indexed_clocks(self, conn: Connection, case_id: str) -> list[Indexed]: ...


class Metrics(Protocol):
    """The pipeline's counters. Every argument is a bounded enumeration, never an id (a
    region code is counted by its district)."""

    def case_received(self, channel: str) -> None: ...

    def case_duplicate(self, channel: str) -> None: ...

    def case_linked(self, kind: str) -> None: ...

    def case_rejected(self, reason: str) -> None: ...

    def case_routed(self, outcome: str, org_kind: str, region: str) -> None: ...

    def case_dispatched(self, channel: str, seconds: float) -> None: ...

    def escalation_step(self, kind: str, level: str) -> None: ...

    def notification(self, channel: str, outcome: str) -> None: ...

    def event_published(self, event_type: str) -> None: ...

    def consumer_retry(self, consumer: str, kind: str) -> None: ...

    def batch_handled(self, stage: str, size: int) -> None: ...
