"""Register intake messages idempotently, or record why they were rejected."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from dispatcher.contract.intake import Invalid, parse, readable_id
from dispatcher.domain import case as cases
from dispatcher.domain.clock import Clock, parse_timestamp
from dispatcher.domain.repeats import LinkKind, Matter, PartyKey, Via
from dispatcher.domain.stages import Stage
from dispatcher.services.clock_index import ClockIndex
from dispatcher.services.linking import Linker, RepeatConfig
from dispatcher.services.ports import Metrics, Store


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


@dataclass(frozen=True)
class Linked:
    """The message joined an existing case (a repeat or collective petition, or a matter
    re-review already decided): no case was opened and nothing is to be routed."""

    case_id: str
    kind: LinkKind


Outcome = Registered | Duplicate | Linked | Rejected


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
    ) -> None:
        self._engine, self._store = engine, store
        self._clock, self._metrics, self._new_id = clock, metrics, new_id
        self._clocks, self._linker = clocks, Linker(repeats, store)

    def receive(
        self, body: bytes, content_type: str | None, routing_key: str, redelivered: bool = False
    ) -> Outcome:
        parsed = parse(body, content_type)
        if isinstance(parsed, Invalid):
            return self.reject(body, parsed, routing_key, redelivered)
        # The channel field is authoritative; the routing key only lets subscribers filter.
        return self._register(parsed.case)

    def _register(self, message: dict) -> Outcome:
        keys = self._linker.keys(message)
        try:
            with self._engine.begin() as conn:
                # Before anything is looked up, even this message's own earlier delivery: a
                # concurrent intake of the same party or matter must commit (and show us its
                # case) first, or both would open one. See store.lock_matter.
                self._store.lock_matter(conn, self._linker.lock_names(message, keys))
                known = self._known(conn, message)
                outcome = known or self._link_or_open(conn, message, keys)
        except IntegrityError:  # a concurrent delivery of the same message got there first
            known = outcome = self._known_after_conflict(message)
        self._count(outcome, message["channel"], again=known is not None)
        return outcome

    def _known(self, conn: Connection, message: dict) -> Outcome | None:
        """The earlier outcome of this (source, external_id): its case, or the case it joined
        (a re-sent copy changes nothing)."""
        source, external_id = message["source"], message["external_id"]
        link = self._store.find_link(conn, source, external_id)
        if link is not None:
            return Linked(link[0], LinkKind(link[1]))
        found = self._store.find_case(conn, source, external_id)
        if found is None:
            return None
        case_id, stage = found
        return Duplicate(case_id, needs_routing=stage is Stage.REGISTERED)

    def _link_or_open(self, conn: Connection, message: dict, keys: tuple[PartyKey, ...]) -> Outcome:
        now = self._clock()
        received_at = parse_timestamp(message["received_at"])
        link = self._linker.find(conn, Matter.of(message, received_at), keys)
        if link is None:
            return self._open(conn, message, keys, now)
        via = Via(message["source"], message["external_id"], message["channel"], received_at)
        self._linker.record(conn, link, via, keys, message.get("people_count", 1), now)
        return Linked(link.case_id, link.kind)

    def _open(
        self, conn: Connection, message: dict, keys: tuple[PartyKey, ...], now: datetime
    ) -> Registered:
        case, event = cases.register(message, self._new_id(), now)
        self._store.insert_case(conn, case)
        self._linker.add_parties(conn, case.case_id, keys, "primary", now)
        self._store.append_event(conn, event)
        self._clocks.refresh(conn, case.case_id, event.at)
        return Registered(case.case_id)

    def _known_after_conflict(self, message: dict) -> Outcome:
        with self._engine.connect() as conn:
            known = self._known(conn, message)
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
                    invalid.code, invalid.reason, None if dead_lettered else rejection_id
                )
            rejection_id = self._store.record_rejection(
                conn, digest, invalid.code, invalid.reason, routing_key, now
            )
            self._store.append_event(
                conn,
                cases.rejected(invalid.code, invalid.reason, source, external_id, routing_key, now),
            )
        self._metrics.case_rejected(invalid.code)
        return Rejected(invalid.code, invalid.reason, rejection_id)

    def mark_dead_lettered(self, rejection_id: int) -> None:
        with self._engine.begin() as conn:
            self._store.mark_dead_lettered(conn, rejection_id, self._clock())


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
