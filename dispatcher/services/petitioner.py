"""What a petitioner does online: submit a case, follow it with its query code (查询码), evaluate
the reply and ask for review.

Nothing here decides anything of its own: a submission goes through IntakeService exactly as
a queue message does (validation, idempotency, the record of a rejection), and an evaluation
or a review request is the same Command as `xinfang case evaluate|request-review`, decided by
CaseCommands. What this service adds is the code: drawn when the submission opened a case,
shown once, kept as a salted hash, and asked for before anything of the case is told. A case
that came by letter, visit or phone, or whose petitioner lost the code, gets one at the
counter (`issue_code`, `xinfang case issue-code`), which replaces any earlier code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from dispatcher.domain import query_codes
from dispatcher.domain.clock import Clock
from dispatcher.domain.decisions import REPLY_FIELDS, Action, Command
from dispatcher.domain.errors import CaseNotFound
from dispatcher.domain.events import Event, EventType
from dispatcher.domain.stages import Stage
from dispatcher.domain.state import Rating
from dispatcher.services.intake import Duplicate, IntakeService, Linked, Rejected
from dispatcher.services.lifecycle import CaseCommands, Timeline
from dispatcher.services.lifecycle import Outcome as CommandOutcome
from dispatcher.services.ports import Store

log = logging.getLogger(__name__)

ROUTING_KEY = "http"  # what a rejection record names as the way the message came
ACTOR = "petitioner"
COUNTER = "operator"  # who issues a code at the counter, unless told (as `xinfang case` says)


@dataclass(frozen=True)
class Submitted:
    """A submission that holds: the case it opened (`query_code` set, the only time it is),
    or the case an earlier submission of the same (source, external_id) opened, or the case
    it joined as a repeat or collective petition (no code: the code is the opener's)."""

    case_id: str
    status: str  # registered | duplicate | joined
    query_code: str | None = None
    joined_as: str | None = None  # repeat | collective | refused_final


@dataclass(frozen=True)
class Deadline:
    clock: str
    due_at: datetime | None  # None while a hearing pauses it
    status: str


@dataclass(frozen=True)
class Reply:
    at: datetime
    texts: dict[str, str]  # the Art 32 fields: the reply is written to the petitioner


@dataclass(frozen=True)
class Progress:
    case_id: str
    stage: Stage
    unit: str | None
    deadlines: list[Deadline]
    replies: list[Reply]
    rating: str | None


class PetitionerDesk:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        clock: Clock,
        intake: IntakeService,
        commands: CaseCommands,
        route: Callable[[Sequence[str]], object],
    ) -> None:
        # route: how new cases reach routing here (enqueued, or routed in this process).
        self._engine, self._store, self._clock = engine, store, clock
        self._intake, self._commands, self._route = intake, commands, route

    def submit(
        self, body: bytes, content_type: str | None, key_source: str | None = None
    ) -> Submitted | Rejected:
        """`key_source`: the source of the producer key the case came with; a case of another
        source is refused (source_not_allowed) and recorded as the queue records it."""
        # Hashed before the intake's transaction, not in it: scrypt's tens of milliseconds would
        # hold the matter locks that long. A duplicate or rejected submission wastes one hash.
        code = query_codes.new_code()
        kept = query_codes.stored(code)

        def keep_code(conn: Connection, case_id: str) -> None:
            # In the transaction that opens the case: no case is ever left without a code.
            self._store.insert_query_code(conn, case_id, kept, self._clock())

        outcome = self._intake.receive(
            body, content_type, ROUTING_KEY, on_open=keep_code, key_source=key_source
        )
        if isinstance(outcome, Rejected):
            return outcome
        if isinstance(outcome, Linked):
            return Submitted(outcome.case_id, "joined", joined_as=outcome.kind.value)
        if isinstance(outcome, Duplicate):
            if outcome.needs_routing:  # the first submission may have died before routing
                self._route_soon(outcome.case_id)
            return Submitted(outcome.case_id, "duplicate")
        # A code only for the submission that opened the case: a re-post of the same
        # (source, external_id) may come from anyone who knows those two, so it gets none.
        self._route_soon(outcome.case_id)
        return Submitted(outcome.case_id, "registered", query_code=code)

    def _route_soon(self, case_id: str) -> None:
        try:
            self._route([case_id])
        except Exception as error:  # registered all the same: the scheduler routes it later
            log.warning("a case was registered but not routed yet (%s)", type(error).__name__)

    def issue_code(self, case_id: str, actor: str = COUNTER) -> str:
        """A new query code for the case, to be shown to its petitioner this once; any earlier
        code opens nothing from now on. CaseNotFound when there is no such case. The case's
        history records that a code was issued, and by whom, never the code itself."""
        code = query_codes.new_code()
        kept = query_codes.stored(code)  # before the transaction, as in submit: scrypt is slow
        with self._engine.begin() as conn:
            row = self._store.lock_case(conn, case_id)  # two issues for one case queue here
            if row is None:
                raise CaseNotFound(case_id)
            at = self._clock()
            replaced = self._store.replace_query_code(conn, case_id, kept, at)
            data = {"actor": actor, "replaced": replaced}
            self._store.append_event(conn, _issued(row, at, data))
        return code

    def admit(self, case_id: str, code: str | None) -> Petition | None:
        """The case, when `code` is its query code; an unknown case is as wrong as a wrong
        code. What is then done with it needs no second check."""
        with self._engine.connect() as conn:
            kept = self._store.query_code(conn, case_id)
        return Petition(case_id, self._commands) if query_codes.matches(code, kept) else None

    def progress(self, case_id: str, code: str | None) -> Progress | None:
        petition = self.admit(case_id, code)
        return petition.progress() if petition else None

    def evaluate(self, case_id: str, code: str | None, rating: Rating) -> CommandOutcome | None:
        petition = self.admit(case_id, code)
        return petition.evaluate(rating) if petition else None

    def request_review(
        self, case_id: str, code: str | None, reason: str | None
    ) -> CommandOutcome | None:
        petition = self.admit(case_id, code)
        return petition.request_review(reason) if petition else None


class Petition:
    """A case whose query code was checked (PetitionerDesk.admit): what its petitioner may
    read and do. The code is checked once per request, not per step: scrypt takes tens of
    milliseconds a check, on purpose."""

    def __init__(self, case_id: str, commands: CaseCommands) -> None:
        self.case_id, self._commands = case_id, commands

    def progress(self) -> Progress:
        return _progress(self._commands.timeline(self.case_id))

    def evaluate(self, rating: Rating) -> CommandOutcome:
        return self._act(Action.EVALUATE, {"rating": rating.value})

    def request_review(self, reason: str | None) -> CommandOutcome:
        return self._act(Action.REQUEST_REVIEW, {"reason": reason} if reason else {})

    def _act(self, action: Action, data: dict[str, Any]) -> CommandOutcome:
        # Told at once, as at the command line: a refusal is not written into the history.
        command = Command(action, self.case_id, ACTOR, None, data)
        return self._commands.handle(command, record_refusal=False)


def _issued(row: Any, at: datetime, data: dict[str, Any]) -> Event:
    return Event(
        EventType.QUERY_CODE_ISSUED, at, row["case_id"], row["source"], row["external_id"], data
    )


def _progress(timeline: Timeline) -> Progress:
    """What the petitioner is told: never the rule, the officers or the internal notes."""
    case = timeline.case
    rating = None
    replies = []
    for event in timeline.events:
        if event["type"] == EventType.REPLIED:
            data = event["data"]
            texts = {name: str(data[name]) for name in REPLY_FIELDS if data.get(name)}
            replies.append(Reply(event["at"], texts))
        elif event["type"] == EventType.EVALUATED:
            rating = str(event["data"].get("rating"))
    deadlines = [Deadline(c.name, c.due_at, c.status) for c in timeline.clocks if c.is_open]
    return Progress(
        case["case_id"], Stage(case["stage"]), case["org_unit_name"], deadlines, replies, rating
    )
