"""Delivering notifications: one attempt at a time, each claimed, each recorded.

A notification row is claimed for one attempt by a conditional update (pending, or left
`sending` by a sender that died once its lease ran out), sent, and marked sent, or pending
again with a backoff, or failed after the last attempt. A failed one stays visible
(`xinfang notifications failed`) until someone retries it by hand. The webhook-id and the
e-mail's Message-ID are the notification's id on every attempt, so a receiver that got a
copy before a crash recognises the next one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from dispatcher.domain.clock import Clock
from dispatcher.domain.notifications import Channel, DeliveryFailed, Notification, Status
from dispatcher.services.ports import Metrics

LEASE = timedelta(minutes=5)  # longer than any one attempt (the senders time out in seconds)
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
MAX_ATTEMPTS = 6


class Sender(Protocol):
    def send(self, notification: Notification, now: datetime) -> None: ...


class DeliveryStore(Protocol):
    """dispatcher.adapters.db.ladder_store, as the senders need it."""

    def claim_delivery(
        self, conn: Connection, notification_id: str, now: datetime, lease_until: datetime
    ) -> Any | None: ...

    def finish_delivery(
        self,
        conn: Connection,
        notification_id: str,
        status: Status,
        *,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        sent_at: datetime | None = None,
    ) -> None: ...

    def deliveries_due(self, conn: Connection, now: datetime, limit: int) -> list[str]: ...

    def reopen_failed(
        self, conn: Connection, ids: Sequence[str] | None, now: datetime
    ) -> list[str]: ...


@dataclass(frozen=True)
class Attempt:
    notification_id: str
    status: Status
    attempts: int
    error: str | None = None

    @property
    def retry(self) -> bool:
        """Sent neither for good nor failed for good: another attempt is due later."""
        return self.status is Status.PENDING


class Deliveries:
    def __init__(
        self,
        engine: Engine,
        store: DeliveryStore,
        senders: Mapping[Channel, Sender],
        clock: Clock,
        max_attempts: int = MAX_ATTEMPTS,
        *,
        metrics: Metrics,
    ) -> None:
        self._engine, self._store, self._senders = engine, store, senders
        self._clock, self._max_attempts = clock, max_attempts
        self._metrics = metrics

    def deliver(self, notification_id: str, now: datetime | None = None) -> Attempt | None:
        """One attempt, if the notification is due one; None if it is not (already sent,
        failed, or being sent by another worker)."""
        now = now or self._clock()
        with self._engine.begin() as conn:
            row = self._store.claim_delivery(conn, notification_id, now, now + LEASE)
        if row is None:
            return None
        attempts = int(row["attempts"])
        try:
            self._send(row, now)
        except DeliveryFailed as failure:
            attempt = self._failed(notification_id, attempts, failure, now)
        else:
            with self._engine.begin() as conn:
                self._store.finish_delivery(conn, notification_id, Status.SENT, sent_at=now)
            attempt = Attempt(notification_id, Status.SENT, attempts)
        # Once recorded: "retry" is an attempt that failed with another due.
        outcome = "retry" if attempt.retry else attempt.status.value
        self._metrics.notification(str(row["channel"]), outcome)
        return attempt

    def _send(self, row: Any, now: datetime) -> None:
        channel = Channel(row["channel"])
        sender = self._senders.get(channel)
        if sender is None:
            raise DeliveryFailed(f"no {channel.value} sender is configured", retryable=False)
        notification = Notification(
            row["id"],
            channel,
            row["recipient"],
            row["recipient_name"],
            row["role"],
            row["payload"],
        )
        sender.send(notification, now)

    def _failed(
        self, notification_id: str, attempts: int, failure: DeliveryFailed, now: datetime
    ) -> Attempt:
        final = not failure.retryable or attempts >= self._max_attempts
        status = Status.FAILED if final else Status.PENDING
        retry_at = None if final else now + backoff(attempts)
        with self._engine.begin() as conn:
            self._store.finish_delivery(
                conn, notification_id, status, error=failure.reason, next_attempt_at=retry_at
            )
        return Attempt(notification_id, status, attempts, failure.reason)

    def due(self, now: datetime, limit: int = 500) -> list[str]:
        with self._engine.connect() as conn:
            return self._store.deliveries_due(conn, now, limit)

    def deliver_due(self, now: datetime) -> list[Attempt]:
        """One attempt for every notification due at `now`, in this process."""
        attempts = (self.deliver(nid, now) for nid in self.due(now))
        return [a for a in attempts if a is not None]

    def reopen(self, ids: Sequence[str] | None, now: datetime) -> list[str]:
        with self._engine.begin() as conn:
            return self._store.reopen_failed(conn, ids, now)


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
