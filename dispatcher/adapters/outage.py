"""How a role waits out a broker or database that is away: a bounded exponential backoff, and
one log line when the outage starts and one when it ends, never one per retry.

Which errors are outages (worth waiting out) rather than faults of one message is decided here
too, once, for every role: a message is dead-lettered for what it is, never because a service
was down while it was being handled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import amqp.exceptions
import dramatiq.errors
import kombu.exceptions
import pika.exceptions
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5
MOST_BACKOFF = 30.0

DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
)
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    kombu.exceptions.ConnectionError,
    amqp.exceptions.ConnectionError,
    amqp.exceptions.ChannelError,
    dramatiq.errors.BrokerConnectionError,
    pika.exceptions.AMQPError,
    ConnectionError,
    TimeoutError,
)


def service_of(error: BaseException) -> str | None:
    """'database' or 'broker' when the error says that service is away, else None."""
    if isinstance(error, DATABASE_ERRORS) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        return "database"
    if isinstance(error, BROKER_ERRORS):
        return "broker"
    return None


class Outage:
    """The state of one role's dependencies: up, or away since some moment."""

    def __init__(
        self,
        role: str,
        first: float = FIRST_BACKOFF,
        most: float = MOST_BACKOFF,
        on_change: Callable[[bool], None] | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.role, self._first, self._most = role, first, most
        self._on_change, self._now = on_change, now
        self._since: float | None = None
        self._what = ""
        self._failures = 0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, what: str, error: BaseException) -> float:
        """Record one failed try; returns how long to wait before the next."""
        with self._lock:
            self._failures += 1
            if self._since is None:
                self._since, self._what = self._now(), what
                log.warning(
                    "%s: %s unavailable (%s); retrying with backoff up to %.0fs",
                    self.role,
                    what,
                    _describe(error),
                    self._most,
                )
                self._changed(up=False)
            return min(self._first * 2 ** (self._failures - 1), self._most)

    def recovered(self) -> None:
        with self._lock:
            if self._since is not None:
                log.warning(
                    "%s: %s available again after %.1fs and %d retries",
                    self.role,
                    self._what,
                    self._now() - self._since,
                    self._failures,
                )
                self._since = None
                self._changed(up=True)
            self._failures = 0

    def _changed(self, up: bool) -> None:
        if self._on_change is not None:
            self._on_change(up)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0][:160] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
