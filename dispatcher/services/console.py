"""The console's desk (网上办, 网上督): officers log in, see the cases that are theirs to see,
act on the ones their unit handles, and supervise the overdue of their region.

Nothing here decides the law: an action is the same Command as `xinfang case accept|…`,
decided by CaseCommands with the officer as its actor. What this desk adds is who may do it
(dispatcher/domain/access.py) and the audit trail of every look at a petitioner's identity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from dispatcher.domain.access import Officer, Role
from dispatcher.domain.clock import Clock
from dispatcher.domain.decisions import Action, Command
from dispatcher.domain.errors import XinfangError
from dispatcher.services.lifecycle import CaseCommands, Timeline
from dispatcher.services.lifecycle import Outcome as CommandOutcome

# What a department may do from its case page; assigning and rerouting stay the bureau's
# dispatcher's, at the command line or on xinfang.commands.
DEPARTMENT_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.REJECT,
        Action.OBJECT,
        Action.EXTEND,
        Action.HEARING_START,
        Action.HEARING_END,
        Action.REPLY,
    }
)
IDENTITY_VIEWED = "identity_viewed"


class Passwords(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class ConsoleStore(Protocol):
    """dispatcher.adapters.db.console_store provides it."""

    def find_user(self, conn: Connection, username: str) -> dict[str, Any] | None: ...

    def set_password(self, conn: Connection, username: str, password_hash: str) -> None: ...

    def record(
        self,
        conn: Connection,
        at: datetime,
        username: str,
        action: str,
        case_id: str | None,
        detail: str | None = None,
    ) -> None: ...

    def cases_of(
        self,
        conn: Connection,
        unit_id: str | None,
        region_prefix: str | None,
        stages: Sequence[str],
        due_before: datetime | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], bool]: ...

    def overdue(
        self, conn: Connection, as_of: datetime, region: str | None, level: str | None, limit: int
    ) -> list[dict[str, Any]]: ...

    def overdue_counts(
        self, conn: Connection, as_of: datetime, region_prefix: str
    ) -> list[tuple[str, str | None, int]]: ...


# The KPIs of the districts of a region prefix, received since a moment, judged as of another:
# monitoring.kpi provides it (a layer the services do not import), rows of plain values.
KpiSource = Callable[[Connection, datetime, datetime, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class WorkList:
    rows: list[dict[str, Any]]  # no identity: the case list's columns
    more: bool
    as_of: datetime


@dataclass(frozen=True)
class OverdueBoard:
    counts: list[tuple[str, str | None, int]]  # (district, level escalated to, cases)
    rows: list[dict[str, Any]]  # the earliest due first
    as_of: datetime


class Forbidden(XinfangError):
    """The case exists but is not this officer's to see, or to act on."""


@dataclass(frozen=True)
class CaseView:
    timeline: Timeline  # its case row holds no identity: see `petitioner`
    petitioner: dict[str, Any] | None  # only for the handling unit, and then audited
    may_act: bool


class ConsoleDesk:
    def __init__(
        self,
        engine: Engine,
        store: ConsoleStore,
        clock: Clock,
        commands: CaseCommands,
        passwords: Passwords,
        kpis: KpiSource,
    ) -> None:
        self._engine, self._store, self._clock = engine, store, clock
        self._commands, self._passwords, self._kpis = commands, passwords, kpis
        self._decoy: str | None = None

    def log_in(self, username: str, password: str) -> Officer | None:
        with self._engine.begin() as conn:
            row = self._store.find_user(conn, username)
            if row is None or row["disabled_at"] is not None:
                self._passwords.verify(self._decoy_hash(), password)
                return None
            if not self._passwords.verify(row["password_hash"], password):
                return None
            if self._passwords.needs_rehash(row["password_hash"]):
                self._store.set_password(conn, username, self._passwords.hash(password))
            self._store.record(conn, self._clock(), username, "logged_in", None)
        return _officer(row)

    def _decoy_hash(self) -> str:
        """Verified against when the user is unknown, so that a wrong name takes as long to
        refuse as a wrong password and does not tell which names exist (made when first
        needed: hashing takes a while, and most processes never log anyone in)."""
        if self._decoy is None:
            self._decoy = self._passwords.hash("not the password of anyone")
        return self._decoy

    def officer(self, username: str) -> Officer | None:
        """The officer a session names, if they may still log in (a disabled user's open
        sessions end with their next request)."""
        with self._engine.connect() as conn:
            row = self._store.find_user(conn, username)
        return None if row is None or row["disabled_at"] is not None else _officer(row)

    def work_list(
        self, officer: Officer, stages: Sequence[str], overdue_only: bool, limit: int = 100
    ) -> WorkList:
        """A department's own cases, or a bureau's region's, the earliest deadline first."""
        now = self._clock()
        department = officer.role is Role.DEPARTMENT
        with self._engine.connect() as conn:
            rows, more = self._store.cases_of(
                conn,
                officer.unit_id if department else None,
                None if department else officer.region_prefix,
                stages,
                now if overdue_only else None,
                limit,
            )
        return WorkList(rows, more, now)

    def overdue_board(self, officer: Officer, level: str | None, limit: int = 200) -> OverdueBoard:
        """The overdue of a bureau's region and below, by district and escalation level."""
        if officer.role is not Role.BUREAU:
            raise Forbidden("the overdue board")
        now, prefix = self._clock(), officer.region_prefix
        with self._engine.connect() as conn:
            counts = self._store.overdue_counts(conn, now, prefix)
            rows = self._store.overdue(conn, now, prefix, level, limit)
        return OverdueBoard(sorted(counts, key=lambda c: (c[0], c[1] or "")), rows, now)

    def kpis(self, officer: Officer, days: int) -> tuple[list[dict[str, Any]], datetime]:
        """The KPIs of the districts of the officer's region, over the last `days` days."""
        now = self._clock()
        with self._engine.connect() as conn:
            rows = self._kpis(conn, now - timedelta(days=days), now, officer.region_prefix[:6])
        return rows, now

    def case(self, officer: Officer, case_id: str) -> CaseView:
        """The case page's content; CaseNotFound or Forbidden when it is not the officer's."""
        timeline = self._commands.timeline(case_id)
        case = timeline.case
        if not officer.sees(case["region"], case["org_unit_id"]):
            raise Forbidden(case_id)
        handles = officer.handles(case["org_unit_id"])
        petitioner = case.pop("petitioner", None) if handles else None
        if petitioner:  # recorded before it is shown: no look at an identity without its record
            with self._engine.begin() as conn:
                self._store.record(conn, self._clock(), officer.username, IDENTITY_VIEWED, case_id)
        case.pop("petitioner", None)
        return CaseView(timeline, petitioner, may_act=handles)

    def act(
        self, officer: Officer, case_id: str, action: Action, data: dict[str, Any]
    ) -> CommandOutcome:
        """An action from the case page, with the officer as its actor; Forbidden unless the
        officer's unit handles the case and the action is a department's."""
        timeline = self._commands.timeline(case_id)
        unit = timeline.case["org_unit_id"]
        if action not in DEPARTMENT_ACTIONS or not officer.handles(unit):
            raise Forbidden(case_id)
        command = Command(action, case_id, _actor(officer), None, data)
        # Refused here, the officer is told at once: nothing goes into the case's history.
        return self._commands.handle(command, record_refusal=False)


def _actor(officer: Officer) -> str:
    """Who acted, as the case's history names them: the officer and their unit."""
    return f"{officer.username}@{officer.unit_id}"


def _officer(row: dict[str, Any]) -> Officer:
    return Officer(
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        unit_id=row["unit_id"],
        region=row["region"],
        locale=row["locale"],
    )


def new_user(
    passwords: Passwords,
    username: str,
    password: str,
    officer: Officer,
    at: datetime,
) -> dict[str, Any]:
    """The row of a new officer, the password hashed (never kept)."""
    return {
        "username": username,
        "password_hash": passwords.hash(password),
        "display_name": officer.display_name,
        "role": officer.role.value,
        "unit_id": officer.unit_id,
        "region": officer.region,
        "locale": officer.locale,
        "created_at": at,
    }
