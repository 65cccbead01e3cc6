"""Register intake messages idempotently, or record why they were rejected."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from dispatcher.clock import Clock
from dispatcher.contract.intake import Invalid, parse
from dispatcher.db import store
from dispatcher.domain import case as cases
from dispatcher.domain.stages import Stage
from dispatcher.services.clock_index import ClockIndex
from monitoring.metrics import Metrics


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


Outcome = Registered | Duplicate | Rejected


class IntakeService:
    def __init__(self, engine: Engine, clock: Clock, metrics: Metrics, clocks: ClockIndex,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._engine, self._clock, self._metrics, self._new_id = engine, clock, metrics, new_id
        self._clocks = clocks

    def receive(self, body: bytes, content_type: str | None, routing_key: str,
                redelivered: bool = False) -> Outcome:
        parsed = parse(body, content_type)
        if isinstance(parsed, Invalid):
            return self.reject(body, parsed, routing_key, redelivered)
        # The channel field is authoritative; the routing key only lets subscribers filter.
        return self._register(parsed.case)

    def _register(self, message: dict) -> Outcome:
        case, event = cases.register(message, self._new_id(), self._clock())
        try:
            with self._engine.begin() as conn:
                store.insert_case(conn, case)
                store.append_event(conn, event)
                self._clocks.refresh(conn, case.case_id, event.at)
        except IntegrityError:
            return self._duplicate(message)
        self._metrics.cases_received.labels(case.channel.value).inc()
        return Registered(case.case_id)

    def _duplicate(self, message: dict) -> Outcome:
        with self._engine.connect() as conn:
            found = store.find_case(conn, message["source"], message["external_id"])
        if found is None:  # the integrity error was something else: let the caller retry
            raise RuntimeError("insert failed but no case holds (source, external_id)")
        case_id, stage = found
        self._metrics.cases_duplicate.labels(message["channel"]).inc()
        return Duplicate(case_id, needs_routing=stage is Stage.REGISTERED)

    def reject(self, body: bytes, invalid: Invalid, routing_key: str,
               redelivered: bool = False) -> Rejected:
        """Record why a message is refused, with a case.rejected event; the caller dead-letters
        the message itself. A redelivery of a message already dead-lettered records nothing."""
        digest = hashlib.sha256(body).hexdigest()
        now = self._clock()
        source, external_id = _ids_if_readable(body)
        with self._engine.begin() as conn:
            if redelivered and store.was_dead_lettered(conn, digest):
                return Rejected(invalid.code, invalid.reason, None)
            rejection_id = store.record_rejection(
                conn, digest, invalid.code, invalid.reason, routing_key, now)
            store.append_event(conn, cases.rejected(
                invalid.code, invalid.reason, source, external_id, routing_key, now))
        self._metrics.cases_rejected.labels(invalid.code).inc()
        return Rejected(invalid.code, invalid.reason, rejection_id)

    def mark_dead_lettered(self, rejection_id: int) -> None:
        with self._engine.begin() as conn:
            store.mark_dead_lettered(conn, rejection_id, self._clock())


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
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None
