"""A reliable queue consumer: handle, commit, then acknowledge; dead-letter what is invalid.

A message is acknowledged only after the work it carries is committed (and, for intake, its
routing enqueued), so a crash at any point means a redelivery, and every handler is idempotent.
The consumer never dies of a message: invalid ones are dead-lettered with their reason; one
that keeps failing for an unexpected reason is dead-lettered after a few tries; while the
database is down it waits and retries; kombu reconnects after a broker restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Consumer, Message, Producer, Queue
from kombu.mixins import ConsumerMixin
from sqlalchemy.exc import InterfaceError, OperationalError

from dispatcher.messaging import topology
from monitoring.metrics import Metrics

log = logging.getLogger(__name__)

POISON_ATTEMPTS = 3  # tries before a message that fails unexpectedly is dead-lettered
_MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class DeadLetter:
    """The handler's verdict that a message is invalid: it goes to the rejected queue."""

    code: str
    reason: str
    after: Callable[[], None] | None = None  # run once the dead letter is confirmed


Handle = Callable[[Message], DeadLetter | None]
OnPoison = Callable[[Message, str, str], DeadLetter]


class ReliableConsumer(ConsumerMixin):
    def __init__(self, connection: Connection, dead_letter_connection: Connection,
                 queue: Queue, rejected: Queue, handle: Handle, on_poison: OnPoison,
                 metrics: Metrics, prefetch: int = 32, name: str = "intake",
                 first_backoff: float = 0.5) -> None:
        self.connection = connection
        # Dead letters go out on a connection of their own: waiting for a publisher confirm on
        # the consuming connection would dispatch further deliveries from inside the callback.
        self._dead_letter_connection = dead_letter_connection
        self._queue, self._rejected, self._handle = queue, rejected, handle
        self._on_poison, self._metrics, self._prefetch, self.name = on_poison, metrics, \
            prefetch, name
        self._producer: Producer | None = None
        self._active: Connection | None = None
        self._failures: dict[str, int] = {}
        self._stopped = threading.Event()
        self._first_backoff = self._backoff = first_backoff
        self.ready = threading.Event()

    # -- kombu hooks ---------------------------------------------------------------------
    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Consumer]:
        # Each consumer declares only its own queues: least-privilege users may do no more.
        for queue in (self._queue, self._rejected):
            queue.bind(channel).declare()
        return [consumer_class(queues=[self._queue], on_message=self.on_message,
                               prefetch_count=self._prefetch, accept=None)]

    def on_consume_ready(self, connection: Connection, channel: Any, consumers: Any,
                         **kwargs: Any) -> None:
        self._active = connection  # kombu's clone of self.connection, the one consuming
        if self._producer is None:
            self._producer = Producer(self._dead_letter_connection,
                                      exchange=self._rejected.exchange, auto_declare=False)
        self.ready.set()
        log.info("%s consumer ready on queue %s", self.name, self._queue.name)

    def on_iteration(self) -> None:
        # kombu sends AMQP heartbeats only when asked; while messages keep arriving the loop
        # never idles, so ask on every iteration or the broker drops a busy consumer.
        if self._active is not None:
            self._active.heartbeat_check()
        if self._dead_letter_connection.connected:
            self._dead_letter_connection.heartbeat_check()

    def stop(self) -> None:
        self.should_stop = True
        self._stopped.set()

    # -- one delivery --------------------------------------------------------------------
    def on_message(self, message: Message) -> None:
        try:
            verdict = self._handle(message)
            if verdict is not None:
                self._dead_letter(message, verdict)
            message.ack()
            self._failures.pop(_key(message), None)
            self._backoff = self._first_backoff
        except self.connection.connection_errors + self.connection.channel_errors:
            raise  # kombu reconnects; the unacknowledged message is redelivered
        except (OperationalError, InterfaceError) as error:  # the database is away: wait
            self._retry_later(message, error, "database")
        except Exception as error:  # met by this message (a bug, data the database refuses):
            # retry a few times, then dead-letter it with the error's kind
            log.exception("%s delivery failed unexpectedly", self.name)
            self._after_unexpected(message, error)

    def _after_unexpected(self, message: Message, error: Exception) -> None:
        attempts = self._failures.get(_key(message), 0) + 1
        if attempts < POISON_ATTEMPTS:
            self._failures[_key(message)] = attempts
            self._retry_later(message, error, "unexpected")
            return
        reason = f"processing failed {POISON_ATTEMPTS} times: {type(error).__name__}"
        self._dead_letter(message, self._on_poison(message, "internal_error", reason))
        self._failures.pop(_key(message), None)
        message.ack()

    def _dead_letter(self, message: Message, verdict: DeadLetter) -> None:
        """The message goes to the rejected queue unchanged, with the reason in headers."""
        assert self._producer is not None
        headers = dict(message.headers or {})
        headers.update({
            topology.REASON_CODE_HEADER: verdict.code,
            topology.REASON_HEADER: verdict.reason,
            topology.ROUTING_KEY_HEADER: message.delivery_info.get("routing_key", ""),
        })
        properties = message.properties or {}
        self._producer.publish(
            message.body, routing_key=self._queue.name + ".rejected", headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            delivery_mode=2, message_id=properties.get("message_id"),
            retry=True, retry_policy={"max_retries": 3},
        )
        if verdict.after is not None:
            verdict.after()

    def _retry_later(self, message: Message, error: Exception, kind: str) -> None:
        log.warning("%s: %s error (%s), retrying in %.1fs", self.name, kind,
                    type(error).__name__, self._backoff)
        self._metrics.consumer_retries.labels(self.name, kind).inc()
        self._stopped.wait(self._backoff)
        self._backoff = min(self._backoff * 2, _MAX_BACKOFF)
        message.requeue()


def _key(message: Message) -> str:
    return hashlib.sha256(message.body).hexdigest()
