"""Department commands on a case: one transaction each, idempotent by command_id.

The service loads the case's events, folds them, computes its clocks, lets the domain decide,
stores the resulting events (audit trail + outbox), the projected stage and the clock rows.
A refused command changes nothing but leaves a `command_rejected` event with its reason, when
it came over the queue: the sender learns of it from the event. An operator at the command line
is told at once, and a typo that never reached the case stays out of its audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from dispatcher.domain.clock import Clock
from dispatcher.domain.clocks import shanghai_text
from dispatcher.domain.decisions import Action, Command, CommandRefused, Limits, decide
from dispatcher.domain.errors import CaseNotFound, XinfangError
from dispatcher.domain.escalation import ClockLadder
from dispatcher.domain.events import Event, EventType
from dispatcher.domain.policy import Policy
from dispatcher.domain.stages import CaseKind, Stage
from dispatcher.domain.state import Lifecycle, Recorded, advance, fold
from dispatcher.domain.timeline import ClockView, clocks_of, deadlines
from dispatcher.services.clock_index import ClockIndex
from dispatcher.services.hierarchy import next_higher_body
from dispatcher.services.ports import Store
from rules import OrgDirectory

# A command may say when it happened (an office keying in a letter's date); never in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
_STAGE_AFTER = {
    EventType.ASSIGNED: Stage.ASSIGNED,
    EventType.REROUTED: Stage.ASSIGNED,
    EventType.ASSIGNMENT_CONFIRMED: Stage.ASSIGNED,
    EventType.ACCEPTED: Stage.ACCEPTED,
    EventType.NOT_ACCEPTED: Stage.NOT_ACCEPTED,
    EventType.OBJECTED: Stage.OBJECTED,
    EventType.REPLIED: Stage.REPLIED,
    EventType.REHANDLING: Stage.ACCEPTED,
    EventType.REVIEW_REQUESTED: Stage.UNDER_REVIEW,
    EventType.REREVIEW_REQUESTED: Stage.UNDER_REVIEW,
    EventType.CLOSED: Stage.CLOSED,
    EventType.FINALIZED: Stage.FINAL,
}
_OPENS = {Action.REQUEST_REVIEW: CaseKind.REVIEW, Action.REQUEST_REREVIEW: CaseKind.REREVIEW}
_CHAIN_WIDE = frozenset({EventType.FINALIZED, EventType.CLOSED})


@dataclass(frozen=True)
class Applied:
    case_id: str
    stage: Stage
    events: tuple[str, ...]
    linked_case_id: str | None = None
    repeated: bool = False  # the command_id was seen before: nothing was done again


@dataclass(frozen=True)
class Refused:
    case_id: str
    reason: str
    repeated: bool = False


Outcome = Applied | Refused


class _Unrecorded(XinfangError):
    """Rolls back a refusal that is not to be recorded, carrying it out of the transaction."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.reason)
        self.refused = refused


@dataclass(frozen=True)
class Timeline:
    case: dict[str, Any]
    events: list[dict[str, Any]]
    clocks: list[ClockView]
    policy: Policy
    ladders: list[ClockLadder] = field(default_factory=list)


class CaseCommands:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        clock: Clock,
        clocks: ClockIndex,
        directory: Callable[[], OrgDirectory],
    ) -> None:
        # A callable: the directory is the current rule set's, which a reload may replace.
        self._engine, self._store = engine, store
        self._clock, self._clocks, self._directory = clock, clocks, directory
        self._calendar, self._policies = clocks.calendar, clocks.policies

    def handle(
        self, command: Command, command_id: str | None = None, *, record_refusal: bool = True
    ) -> Outcome:
        """Apply one command in one transaction. A refusal is recorded (command_rejected
        event, command row) unless `record_refusal` is false: then it writes nothing."""
        try:
            return self._handle(command, command_id or str(uuid.uuid4()), record_refusal)
        except _Unrecorded as unrecorded:
            return unrecorded.refused

    def _handle(self, command: Command, command_id: str, record_refusal: bool) -> Outcome:
        with self._engine.begin() as conn:
            seen = self._store.find_command(conn, command_id)
            if seen is not None:
                return self._repeat(conn, seen, command)
            outcome = self._apply(conn, command, command_id)
            if isinstance(outcome, Refused) and not record_refusal:
                raise _Unrecorded(outcome)
            self._store.record_command(
                conn,
                command_id,
                command.case_id,
                command.action.value,
                "applied" if isinstance(outcome, Applied) else "refused",
                outcome.reason if isinstance(outcome, Refused) else None,
                self._clock(),
            )
        return outcome

    def refuse_unreadable(
        self, command_id: str | None, case_id: str | None, action: str, reason: str
    ) -> None:
        """Record a command that failed validation (the message itself is dead-lettered)."""
        with self._engine.begin() as conn:
            if command_id and self._store.find_command(conn, command_id) is not None:
                return
            if command_id:
                self._store.record_command(
                    conn,
                    command_id,
                    case_id,
                    action[:32] or "unknown",
                    "refused",
                    reason,
                    self._clock(),
                )
            self._store.append_event(
                conn, _rejection(case_id, action, reason, command_id, self._clock())
            )

    def _apply(self, conn: Connection, command: Command, command_id: str) -> Outcome:
        now = self._clock()
        row = self._store.lock_case(conn, command.case_id)
        if row is None:
            reason = f"case {command.case_id} does not exist"
            self._store.append_event(
                conn, _rejection(None, command.action.value, reason, command_id, now)
            )
            return Refused(command.case_id, reason)
        at = command.at or now
        command = replace(command, at=at)
        try:
            if at > now + FUTURE_TOLERANCE:
                raise CommandRefused(
                    command.case_id,
                    Stage(row["stage"]),
                    command.action.value,
                    f"'at' {shanghai_text(at)} is in the future",
                )
            return self._decide_and_store(conn, row, command, command_id, at)
        except CommandRefused as refused:
            self._store.append_event(
                conn,
                _rejection(
                    command.case_id, command.action.value, str(refused), command_id, now, row
                ),
            )
            return Refused(command.case_id, str(refused))

    def _decide_and_store(
        self, conn: Connection, row: Any, command: Command, command_id: str, at: datetime
    ) -> Applied:
        policy = self._policies(row["policy"])
        state = fold(self._store.history(conn, command.case_id))
        views = clocks_of(state, policy, self._calendar, at)
        body = self._next_body(row, state, command)
        if body is not None:  # the id is chosen now; the case is opened only if legal
            command = replace(command, data={**command.data, "linked_case_id": str(uuid.uuid4())})
        changes = decide(command.case_id, state, command, _limits(policy), deadlines(views))
        ids = []
        for kind, data in changes:
            ids.append(self._store.append_event(conn, _event(row, kind, at, data)))
            advance(state, Recorded(kind, at, data))
            self._project(conn, command.case_id, kind, data, at)
            if kind in _CHAIN_WIDE:
                self._propagate(conn, row, kind, data, at)
        linked = command.data.get("linked_case_id") if body is not None else None
        if linked is not None and body is not None:
            self._open_linked(conn, row, linked, _OPENS[command.action], body, at)
        self._clocks.write(conn, command.case_id, state, row["policy"], at)
        return Applied(command.case_id, state.stage, tuple(ids), linked)

    def _project(
        self, conn: Connection, case_id: str, kind: EventType, data: dict[str, Any], at: datetime
    ) -> None:
        if kind in _STAGE_AFTER:
            self._store.set_stage(conn, case_id, _STAGE_AFTER[kind])
        if "org_unit" in data and kind in (EventType.ASSIGNED, EventType.REROUTED):
            self._store.set_org_unit(conn, case_id, data["org_unit"], at)

    def _next_body(self, row: Any, state: Lifecycle, command: Command) -> dict[str, str] | None:
        """The next-higher body a review or re-review request goes to, if the command is one."""
        if command.action not in _OPENS or state.stage is not Stage.REPLIED:
            return None
        try:
            return next_higher_body(self._directory(), row["org_unit_id"] or "")
        except LookupError as error:
            raise CommandRefused(
                command.case_id, state.stage, command.action.value, str(error)
            ) from None

    def _open_linked(
        self,
        conn: Connection,
        row: Any,
        linked_id: str,
        kind: CaseKind,
        body: dict[str, str],
        at: datetime,
    ) -> None:
        """Open the review (复查) or re-review (复核) case at the next-higher body."""
        self._store.insert_linked_case(conn, row, linked_id, kind, body, at)
        for event_type, data in (
            (
                EventType.REGISTERED,
                {
                    "kind": kind.value,
                    "parent_case_id": row["case_id"],
                    "received_at": at.isoformat(),
                },
            ),
            (EventType.ASSIGNED, {"org_unit": body, "reason": f"{kind.value} requested"}),
            (EventType.ACCEPTED, {"actor": "system", "note": f"{kind.value} request received"}),
        ):
            self._store.append_event(
                conn,
                Event(
                    event_type,
                    at,
                    linked_id,
                    row["source"],
                    f"{row['external_id']}#{kind.value}",
                    data,
                ),
            )
        self.refresh_clocks(conn, linked_id, at)

    def _propagate(
        self, conn: Connection, row: Any, kind: EventType, data: dict[str, Any], at: datetime
    ) -> None:
        """The end of a review or re-review ends the cases it came from: final after
        re-review (Art 36, pointing to the final case), closed when the petitioner is content
        with a review."""
        parent_id = row["parent_case_id"]
        while parent_id:
            parent = self._store.load_case_row(conn, parent_id)
            if parent is None:
                break
            self._store.append_event(conn, _event(parent, kind, at, dict(data)))
            self._store.set_stage(conn, parent_id, _STAGE_AFTER[kind])
            self.refresh_clocks(conn, parent_id, at)
            parent_id = parent["parent_case_id"]

    def refresh_clocks(self, conn: Connection, case_id: str, at: datetime) -> None:
        self._clocks.refresh(conn, case_id, at)

    def timeline(self, case_id: str) -> Timeline:
        now = self._clock()
        with self._engine.connect() as conn:
            row = self._store.load_case_row(conn, case_id)
            if row is None:
                raise CaseNotFound(case_id)
            policy = self._policies(row["policy"])
            state = fold(self._store.history(conn, case_id))
            case_events = self._store.case_events(conn, case_id)
        ladders = self._clocks.ladders_of(state, row["policy"], now)
        return Timeline(
            dict(row),
            case_events,
            clocks_of(state, policy, self._calendar, now),
            policy,
            [c for c in ladders if c.ladder is not None],
        )

    def _repeat(self, conn: Connection, seen: Any, command: Command) -> Outcome:
        """The answer to a command_id seen before: what happened then, and the case as it is now.
        The same id for another case or action is a client's mistake, refused (changing nothing)."""
        if (seen.case_id, seen.action) != (command.case_id, command.action.value):
            return Refused(
                command.case_id,
                f"command_id was already used for {seen.action} on case {seen.case_id}",
            )
        if seen.outcome != "applied":
            return Refused(seen.case_id, seen.reason or "", repeated=True)
        row = self._store.load_case_row(conn, seen.case_id)
        stage = Stage(row["stage"]) if row is not None else Stage.REGISTERED
        return Applied(seen.case_id, stage, (), repeated=True)


def _limits(policy: Policy) -> Limits:
    extension = policy.handling_extension
    return Limits(
        extension_max_days=extension.max_days if extension else 0,
        extension_times=extension.times if extension else 0,
        on_dissatisfied=policy.on_dissatisfied,
    )


def _event(row: Any, kind: EventType, at: datetime, data: dict[str, Any]) -> Event:
    return Event(kind, at, row["case_id"], row["source"], row["external_id"], data)


def _rejection(
    case_id: str | None,
    action: str,
    reason: str,
    command_id: str | None,
    at: datetime,
    row: Any = None,
) -> Event:
    return Event(
        EventType.COMMAND_REJECTED,
        at,
        case_id,
        row["source"] if row is not None else None,
        row["external_id"] if row is not None else None,
        {"action": action, "reason": reason, "command_id": command_id},
    )
