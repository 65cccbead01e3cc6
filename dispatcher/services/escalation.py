"""Taking the ladder steps that are due: one transaction per case and clock.

The sweep finds the clocks past a step with one indexed query; `escalate` then locks the
case, folds its history and plans its ladder again as of the sweep's time, so that a stale
index can never take a step that no longer applies. Each step is claimed by a conditional
update of the clock's row and a unique record (case, clock, period, step): however many
schedulers and workers race, a step happens once. The step's event and its notifications
are written in the same transaction, so a step is never taken without them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from dispatcher.domain.errors import XinfangError
from dispatcher.domain.escalation import ClockLadder, Target, escalated
from dispatcher.domain.events import EventType
from dispatcher.domain.ladders import PlannedStep, StepKind
from dispatcher.domain.notifications import Channel, Notification, Status, without_identity
from dispatcher.domain.state import Lifecycle, Recorded, advance, fold
from dispatcher.services.clock_index import ClockIndex
from dispatcher.services.hierarchy import handler_region
from dispatcher.services.ports import Metrics, Store
from rules import OrgDirectory
from rules.directory import Leader

SWEEP_BATCH = 500
PLAN_VERSION = "ladder_plan"
MAX_ROUNDS = 20  # a sweep goes on while it finds steps due; this bounds a runaway one


class LadderStore(Protocol):
    """dispatcher.adapters.db.ladder_store, as the escalation needs it."""

    def clocks_due(
        self, conn: Connection, as_of: datetime, limit: int
    ) -> list[tuple[str, str]]: ...

    def take_step(
        self,
        conn: Connection,
        case_id: str,
        clock: str,
        period: str,
        previous: str | None,
        record: Mapping[str, Any],
    ) -> int | None: ...

    def add_notifications(
        self,
        conn: Connection,
        escalation_id: int,
        case_id: str,
        items: Sequence[tuple[Notification, Status]],
        at: datetime,
    ) -> None: ...

    def open_clock_keys(
        self, conn: Connection, after: tuple[str, str] | None, limit: int
    ) -> list[tuple[str, str]]: ...

    def read_version(self, conn: Connection, name: str) -> str | None: ...

    def write_version(self, conn: Connection, name: str, value: str, at: datetime) -> None: ...


@dataclass(frozen=True)
class Desk:
    """A recipient of every step, beside those the directory names (a supervision desk)."""

    channel: Channel
    address: str
    name: str = "督查督办"


@dataclass(frozen=True)
class NotifyConfig:
    email: bool = False  # an SMTP server is configured; else e-mails are recorded as skipped
    desks: tuple[Desk, ...] = ()


@dataclass(frozen=True)
class Taken:
    case_id: str
    clock: str
    step: str
    kind: StepKind
    level: str
    notifications: tuple[str, ...]  # the ones to send (not those skipped)
    skipped: tuple[str, ...] = ()  # the channels of those recorded as skipped


class _Raced(XinfangError):
    """Another sweep took the step first: this transaction is rolled back, nothing written."""


class Escalations:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        ladder_store: LadderStore,
        clocks: ClockIndex,
        directory: Callable[[], OrgDirectory],
        notify: NotifyConfig = NotifyConfig(),
        *,
        metrics: Metrics,
    ) -> None:
        self._engine, self._store, self._ladders = engine, store, ladder_store
        self._clocks, self._directory, self._notify = clocks, directory, notify
        self._metrics = metrics

    # -- finding ---------------------------------------------------------------------------
    def due(self, as_of: datetime, limit: int = SWEEP_BATCH) -> list[tuple[str, str]]:
        with self._engine.connect() as conn:
            return self._ladders.clocks_due(conn, as_of, limit)

    def sweep(self, as_of: datetime) -> list[Taken]:
        """Take every step due at `as_of`, in this process (for `xinfang sweep` and tests)."""
        taken: list[Taken] = []
        for _ in range(MAX_ROUNDS):
            found = self.due(as_of)
            now_taken = [
                t for case_id, clock in found for t in self.escalate(case_id, clock, as_of)
            ]
            taken += now_taken
            if len(found) < SWEEP_BATCH and not now_taken:  # nothing more is due
                break
        return taken

    # -- taking ----------------------------------------------------------------------------
    def escalate(self, case_id: str, clock_name: str, as_of: datetime) -> list[Taken]:
        """Take the steps of one clock that are due at `as_of`, in order; idempotent."""
        try:
            with self._engine.begin() as conn:
                taken = self._escalate(conn, case_id, clock_name, as_of)
        except _Raced:
            return []
        self._count(taken)  # once committed: a step rolled back was not taken
        return taken

    def _count(self, taken: list[Taken]) -> None:
        for step in taken:
            self._metrics.escalation_step(step.kind.value, step.level)
            for channel in step.skipped:
                self._metrics.notification(channel, Status.SKIPPED.value)

    def _escalate(
        self, conn: Connection, case_id: str, clock_name: str, as_of: datetime
    ) -> list[Taken]:
        row = self._store.lock_case(conn, case_id)
        if row is None:
            return []
        state = fold(self._store.history(conn, case_id))
        clock = _named(self._clocks.ladders_of(state, row["policy"], as_of), clock_name)
        taken = []
        if clock is not None and clock.plan is not None:
            taken = [self._take(conn, row, state, clock, s, as_of) for s in clock.plan.due(as_of)]
        # The index is rewritten either way: a row that said "due" for nothing is corrected.
        self._clocks.write(conn, case_id, state, row["policy"], as_of)
        return taken

    def _take(
        self,
        conn: Connection,
        row: Any,
        state: Lifecycle,
        clock: ClockLadder,
        step: PlannedStep,
        as_of: datetime,
    ) -> Taken:
        view = clock.view
        target, leaders = self._target(row, state, step)
        case = (row["case_id"], row["source"], row["external_id"])
        event = escalated(case, clock, step, target, as_of)
        event_id = str(uuid.uuid4())
        previous = state.steps_taken(view.name, view.period)
        record = {
            "case_id": row["case_id"],
            "clock": view.name,
            "period": view.period,
            "step": step.key,
            "kind": step.step.kind.value,
            "ladder": clock.ladder.id if clock.ladder else "",
            "level": target.level,
            "region": target.region["code"],
            "roles": list(target.roles),
            "due_at": view.due_at,
            "step_at": step.at,
            "escalated_at": as_of,
            "days_overdue": event.data["days_overdue"],
            "event_id": event_id,
        }
        last = previous[-1].key if previous else None
        escalation_id = self._ladders.take_step(
            conn, row["case_id"], view.name, view.period, last, record
        )
        if escalation_id is None:
            raise _Raced
        self._store.append_event(conn, event, event_id)
        items = self._notifications(row, event.data, event_id, leaders, as_of)
        self._ladders.add_notifications(conn, escalation_id, row["case_id"], items, as_of)
        advance(state, Recorded(EventType.ESCALATED, as_of, event.data))
        pending = tuple(n.id for n, status in items if status is Status.PENDING)
        skipped = tuple(n.channel.value for n, status in items if status is Status.SKIPPED)
        return Taken(
            row["case_id"], view.name, step.key, step.step.kind, target.level, pending, skipped
        )

    # -- who is told -------------------------------------------------------------------------
    def _target(self, row: Any, state: Lifecycle, step: PlannedStep) -> tuple[Target, list[Leader]]:
        directory = self._directory()
        home = handler_region(directory, state) or row["region"]
        lineage = directory.lineage(home) or (directory.root,)
        region = lineage[min(step.up, len(lineage) - 1)]
        unit = dict(state.org_unit or {"id": f"{home}:petition_bureau", "name": ""})
        leaders = _leaders(directory, region, home, unit["id"], step.step.roles)
        target = Target(
            region={"code": region, "name": directory.region_name(region) or region},
            level=directory.level_of(region) or "city",
            unit={"id": unit["id"], "name": unit.get("name", "")},
            roles=step.step.roles,
            recipients=[{"role": lead.role, "name": lead.name} for lead in leaders],
        )
        return target, leaders

    def _notifications(
        self,
        row: Any,
        data: Mapping[str, Any],
        event_id: str,
        leaders: Sequence[Leader],
        at: datetime,
    ) -> list[tuple[Notification, Status]]:
        payload = escalation_payload(row, data, event_id, at, self._directory())
        wanted: dict[tuple[Channel, str], tuple[str, str]] = {}
        for lead in leaders:
            if lead.email:
                wanted.setdefault((Channel.EMAIL, lead.email), (lead.name, lead.role))
            if lead.webhook:
                wanted.setdefault((Channel.WEBHOOK, lead.webhook), (lead.name, lead.role))
        for desk in self._notify.desks:
            wanted.setdefault((desk.channel, desk.address), (desk.name, "desk"))
        return [
            (
                Notification(str(uuid.uuid4()), channel, address, name, role, payload),
                Status.PENDING
                if channel is Channel.WEBHOOK or self._notify.email
                else Status.SKIPPED,
            )
            for (channel, address), (name, role) in wanted.items()
        ]

    # -- re-planning -------------------------------------------------------------------------
    def replan_if_changed(self, version: str, as_of: datetime) -> int | None:
        """Re-plan every open ladder if what the index was planned with has changed since
        (`version` digests the ladders, policies, calendar and directory); None if not."""
        with self._engine.connect() as conn:
            if self._ladders.read_version(conn, PLAN_VERSION) == version:
                return None
        replanned = self.replan(as_of)
        with self._engine.begin() as conn:
            self._ladders.write_version(conn, PLAN_VERSION, version, as_of)
        return replanned

    def replan(self, as_of: datetime, page: int = 500) -> int:
        """Rewrite the index of every open clock from its case's history, ladders and calendar
        (after a change of ladder, policy or calendar); page by page, one case at a time."""
        done, after = 0, None
        while True:
            with self._engine.connect() as conn:
                keys = self._ladders.open_clock_keys(conn, after, page)
            for case_id in dict.fromkeys(case_id for case_id, _ in keys):
                with self._engine.begin() as conn:
                    self._clocks.refresh(conn, case_id, as_of)
                done += 1
            if len(keys) < page:
                return done
            after = keys[-1]


def _named(clocks: list[ClockLadder], name: str) -> ClockLadder | None:
    return next((c for c in clocks if c.view.name == name), None)


def _leaders(
    directory: OrgDirectory, region: str, home: str, unit_id: str, roles: Sequence[str]
) -> list[Leader]:
    """The people of a step's roles: `handler` and `handler_head` are the handling unit's;
    any other role is one of the region's leadership or of its petition bureau."""
    found: list[Leader] = []
    own = [lead for lead in directory.leaders(home) if lead.unit_id == unit_id]
    bureau = f"{region}:petition_bureau"
    for role in roles:
        if role == "handler":
            found += own
        elif role == "handler_head":
            found += [lead for lead in own if lead.role == "head"]
        else:
            found += [
                lead
                for lead in directory.leaders(region)
                if lead.role == role and lead.unit_id in (None, bureau)
            ]
    return list(dict.fromkeys(found))


def escalation_payload(
    row: Any, data: Mapping[str, Any], event_id: str, at: datetime, directory: OrgDirectory
) -> dict[str, Any]:
    """What a notification says: the case and its clock, never who petitioned."""
    region = row["region"]
    return {
        "type": "case.escalated",
        "event_id": event_id,
        "case_id": row["case_id"],
        "source": row["source"],
        "external_id": row["external_id"],
        "summary": without_identity(row["title"], row["petitioner"]),
        "category": row["category"],
        "region": {"code": region, "name": directory.region_name(region) or region},
        "unit": data["unit"],
        "step": data["step"],
        "level": data["level"],
        "target_region": data["region"],
        "roles": data["roles"],
        "clock": data["clock"],
        "days_overdue": data["days_overdue"],
        "escalated_at": at.isoformat(),
    }
