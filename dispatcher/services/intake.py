"""Register intake messages idempotently, or record why they were rejected."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dispatcher.contract.intake import Invalid, Problem, Valid, parse, readable_id
from dispatcher.contract.sources import SourceUsers, key_refusal, source_refusal
from dispatcher.domain import case as cases
from dispatcher.domain.clock import Clock, parse_timestamp
from dispatcher.domain.events import Event
from dispatcher.domain.policy import DEFAULT_POLICY
from dispatcher.domain.repeats import Candidate, LinkKind, Matter, PartyKey, Via
from dispatcher.domain.stages import Stage
from dispatcher.domain.state import Recorded, fold
from dispatcher.services.clock_index import ClockIndex, Folded
from dispatcher.services.linking import Linker, Nearby, RepeatConfig
from dispatcher.services.ports import Metrics, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registered:
    case_id: str


@dataclass(frozen=True)
class Duplicate:
    case_id: str
    needs_routing: bool  # still registered: the earlier delivery may have died before enqueuing


@dataclass(frozen=True)
class Rejected:
    code: str
    reason: str
    rejection_id: int | None  # None: this delivery was already dead-lettered before a crash
    problems: tuple[Problem, ...] = field(default=(), compare=False)  # each, when schema-found

    @property
    def invalid(self) -> Invalid:
        return Invalid(self.code, self.reason, self.problems)


@dataclass(frozen=True)
class Linked:
    """The message joined an existing case (a repeat or collective petition, or a matter
    re-review already decided): no case was opened and nothing is to be routed."""

    case_id: str
    kind: LinkKind


Outcome = Registered | Duplicate | Linked | Rejected


@dataclass(frozen=True)
class Incoming:
    """One intake message as it came: its bytes, content type and routing key, and the broker
    user that published it when the message said (AMQP user_id, which RabbitMQ validates), or,
    over HTTP, the source of the producer key it was sent with."""

    body: bytes
    content_type: str | None
    routing_key: str
    redelivered: bool = False
    user_id: str | None = None
    key_source: str | None = None


@dataclass
class _Written:
    """What a batch's registrations leave to write at its end, a statement each: the new
    cases and their parties, their events (in order) and their clock rows, folded from the
    state in hand."""

    cases: list[cases.Case] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[Event, str | None]] = field(default_factory=list)
    clocks: list[Folded] = field(default_factory=list)

    def cases_now(self, conn: Connection, store: Store) -> None:
        """Insert the cases opened so far (a link may lock one of them)."""
        store.insert_cases(conn, self.cases)
        store.insert_parties(conn, self.parties)
        self.cases, self.parties = [], []

    def all_now(self, conn: Connection, store: Store, clock_index: ClockIndex) -> None:
        self.cases_now(conn, store)
        store.append_events(conn, self.events)
        clock_index.write_many(conn, self.clocks, fresh=True)


OnOpen = Callable[[Connection, str], None]


class IntakeService:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        clock: Clock,
        metrics: Metrics,
        clocks: ClockIndex,
        repeats: RepeatConfig,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        sources: SourceUsers | None = None,
    ) -> None:
        self._engine, self._store = engine, store
        self._sources: SourceUsers = sources or {}  # sources bound to broker users
        self._clock, self._metrics, self._new_id = clock, metrics, new_id
        self._clocks, self._linker = clocks, Linker(repeats, store)

    def receive(
        self,
        body: bytes,
        content_type: str | None,
        routing_key: str,
        redelivered: bool = False,
        *,
        on_open: OnOpen | None = None,
        key_source: str | None = None,
    ) -> Outcome:
        """`on_open(conn, case_id)` writes what belongs with a case this message opens, in the
        transaction that opens it (the HTTP gateway's query code): both or neither.
        `key_source`: the source of the producer key an HTTP submission carried."""
        incoming = Incoming(body, content_type, routing_key, redelivered, key_source=key_source)
        return self.receive_many([incoming], on_open=on_open)[0]

    def receive_many(
        self, messages: Sequence[Incoming], on_open: OnOpen | None = None
    ) -> list[Outcome]:
        """The outcome of each message, in order. The valid ones are registered together in
        one transaction; should that fail, one at a time, so that a message that cannot be
        registered fails alone. Each invalid one is recorded in a transaction of its own, and
        so is a case of a bound source that its broker user did not publish: it is refused as
        an invalid message is, before anything of it is written."""
        parsed = [self._checked(m) for m in messages]
        outcomes: dict[int, Outcome] = {
            i: self.reject(m.body, p, m.routing_key, m.redelivered)
            for i, (m, p) in enumerate(zip(messages, parsed, strict=True))
            if isinstance(p, Invalid)
        }
        # The channel field is authoritative; the routing key only lets subscribers filter.
        valid = [(i, p.case) for i, p in enumerate(parsed) if not isinstance(p, Invalid)]
        registered = self._register_all([case for _i, case in valid], on_open)
        outcomes.update((i, outcome) for (i, _case), outcome in zip(valid, registered, strict=True))
        return [outcomes[i] for i in range(len(messages))]

    def _checked(self, message: Incoming) -> Valid | Invalid:
        checked = parse(message.body, message.content_type)
        if isinstance(checked, Invalid):
            return checked
        source = checked.case["source"]
        # A producer key proves who sent a case as a validated user_id does: its own binding
        # (one source per key) stands in for the broker users'.
        if message.key_source is not None:
            return key_refusal(source, message.key_source) or checked
        return source_refusal(source, message.user_id, self._sources) or checked

    def _register_all(self, messages: Sequence[dict], on_open: OnOpen | None) -> list[Outcome]:
        if len(messages) > 1:
            try:
                return self._register_together(messages, on_open)
            except Exception as error:  # each is then tried alone, and fails alone
                log.info(
                    "intake: a batch of %d failed (%s); registering them one by one",
                    len(messages),
                    type(error).__name__,
                )
        return [self._register(message, on_open) for message in messages]

    def _register(self, message: dict, on_open: OnOpen | None) -> Outcome:
        try:
            return self._register_together([message], on_open)[0]
        except IntegrityError:  # a concurrent delivery of the same message got there first
            outcome = self._known_after_conflict(message)
            self._count(outcome, message["channel"], again=True)
            return outcome

    def _register_together(
        self, messages: Sequence[dict], on_open: OnOpen | None = None
    ) -> list[Outcome]:
        keys = [self._linker.keys(message) for message in messages]
        ids = [(message["source"], message["external_id"]) for message in messages]
        outcomes: list[tuple[Outcome, bool]] = []  # (outcome, known before)
        with self._engine.begin() as conn:
            # Before anything is looked up, even these messages' own earlier deliveries: a
            # concurrent intake of the same party or matter must commit (and show us its case)
            # first, or both would open one. See store.lock_matter.
            self._store.lock_matter(conn, self._lock_names(messages, keys))
            known = _Known(*self._store.find_known(conn, ids))
            new = [
                (_matter(m), k)
                for m, k, key in zip(messages, keys, ids, strict=True)
                if known.outcome(key) is None
            ]
            nearby = self._linker.nearby(conn, new)
            written = _Written()
            for message, its_keys, key in zip(messages, keys, ids, strict=True):
                earlier = known.outcome(key)
                outcome = earlier or self._link_or_open(conn, message, its_keys, nearby, written)
                known.add(key, outcome)  # a second copy later in the batch is a duplicate
                outcomes.append((outcome, earlier is not None))
            written.all_now(conn, self._store, self._clocks)
            for outcome, again in outcomes:
                if on_open is not None and isinstance(outcome, Registered) and not again:
                    on_open(conn, outcome.case_id)
        for message, (outcome, again) in zip(messages, outcomes, strict=True):
            self._count(outcome, message["channel"], again)
        return [outcome for outcome, _again in outcomes]

    def _lock_names(
        self, messages: Sequence[dict], keys: Sequence[tuple[PartyKey, ...]]
    ) -> list[str]:
        return [
            name
            for message, its_keys in zip(messages, keys, strict=True)
            for name in self._linker.lock_names(message, its_keys)
        ]

    def _link_or_open(
        self,
        conn: Connection,
        message: dict,
        keys: tuple[PartyKey, ...],
        nearby: Nearby,
        written: _Written,
    ) -> Outcome:
        now = self._clock()
        matter = _matter(message)
        link = self._linker.find(matter, keys, nearby)
        if link is None:
            return self._open(message, keys, matter, now, nearby, written)
        written.cases_now(conn, self._store)  # the case it joins may be new in this batch
        via = Via(message["source"], message["external_id"], message["channel"], matter.received_at)
        people = message.get("people_count", 1)
        written.events.append(
            (self._linker.record(conn, link, via, keys, people, now, nearby), None)
        )
        return Linked(link.case_id, link.kind)

    def _open(
        self,
        message: dict,
        keys: tuple[PartyKey, ...],
        matter: Matter,
        now: datetime,
        nearby: Nearby,
        written: _Written,
    ) -> Registered:
        case, event = cases.register(message, self._new_id(), now)
        written.cases.append(case)
        written.parties += _party_rows(case.case_id, keys, now)
        written.events.append((event, None))
        # The clocks from the one event the case has: nothing is read back.
        state = fold([Recorded(event.type, event.at, event.data)])
        written.clocks.append(Folded(case.case_id, state, DEFAULT_POLICY, event.at))
        nearby.add(Candidate(case.case_id, matter, Stage.REGISTERED), keys)
        return Registered(case.case_id)

    def _known_after_conflict(self, message: dict) -> Outcome:
        key = (message["source"], message["external_id"])
        with self._engine.connect() as conn:
            known = _Known(*self._store.find_known(conn, [key])).outcome(key)
        if known is None:  # the integrity error was something else: let the caller retry
            raise RuntimeError("insert failed but no case or link holds (source, external_id)")
        return known

    def _count(self, outcome: Outcome, channel: str, again: bool) -> None:
        if again:
            self._metrics.case_duplicate(channel)
        elif isinstance(outcome, Registered):
            self._metrics.case_received(channel)
        elif isinstance(outcome, Linked):
            self._metrics.case_linked(outcome.kind.value)

    def reject(
        self, body: bytes, invalid: Invalid, routing_key: str, redelivered: bool = False
    ) -> Rejected:
        """Record why a message is refused, with a case.rejected event; the caller dead-letters
        the message itself. A redelivery records nothing new: it is dead-lettered again only if
        the first attempt died before its dead letter was confirmed."""
        digest = hashlib.sha256(body).hexdigest()
        now = self._clock()
        source, external_id = _ids_if_readable(body)
        with self._engine.begin() as conn:
            earlier = self._store.latest_rejection(conn, digest) if redelivered else None
            if earlier is not None:
                rejection_id, dead_lettered = earlier
                return Rejected(
                    invalid.code,
                    invalid.reason,
                    None if dead_lettered else rejection_id,
                    invalid.problems,
                )
            rejection_id = self._store.record_rejection(
                conn, digest, invalid.code, invalid.reason, routing_key, now
            )
            self._store.append_event(
                conn,
                cases.rejected(invalid.code, invalid.reason, source, external_id, routing_key, now),
            )
        self._metrics.case_rejected(invalid.code)
        return Rejected(invalid.code, invalid.reason, rejection_id, invalid.problems)

    def mark_dead_lettered(self, rejection_id: int) -> None:
        with self._engine.begin() as conn:
            self._store.mark_dead_lettered(conn, rejection_id, self._clock())


def _matter(message: dict) -> Matter:
    return Matter.of(message, parse_timestamp(message["received_at"]))


def _party_rows(case_id: str, keys: Sequence[PartyKey], at: datetime) -> list[dict[str, Any]]:
    """A new case's party rows: one per key (the same number as ID number and as phone is
    one party), the first kind given."""
    first_kind = {key.value: key.kind.value for key in reversed(keys)}
    return [
        {"case_id": case_id, "party_key": key, "key_kind": kind, "role": "primary", "added_at": at}
        for key, kind in first_kind.items()
    ]


class _Known:
    """What earlier deliveries of a batch's messages did, by (source, external_id)."""

    def __init__(
        self,
        opened: dict[tuple[str, str], tuple[str, Stage]],
        joined: dict[tuple[str, str], tuple[str, str]],
    ) -> None:
        self._opened, self._joined = opened, joined

    def outcome(self, key: tuple[str, str]) -> Outcome | None:
        """The case it joined (a re-sent copy changes nothing), or the case it opened."""
        if key in self._joined:
            case_id, kind = self._joined[key]
            return Linked(case_id, LinkKind(kind))
        if key in self._opened:
            case_id, stage = self._opened[key]
            return Duplicate(case_id, needs_routing=stage is Stage.REGISTERED)
        return None

    def add(self, key: tuple[str, str], outcome: Outcome) -> None:
        if isinstance(outcome, Registered):
            self._opened[key] = (outcome.case_id, Stage.REGISTERED)
        elif isinstance(outcome, Linked):
            self._joined[key] = (outcome.case_id, outcome.kind.value)


def _ids_if_readable(body: bytes) -> tuple[str | None, str | None]:
    """(source, external_id) of a rejected message when they are there as short strings,
    so that the producer can find which of its messages failed."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    return _short_string(document.get("source")), _short_string(document.get("external_id"))


def _short_string(value: object) -> str | None:
    return readable_id(value, 128)
