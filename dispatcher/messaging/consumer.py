"""The intake consumer: validate, register idempotently, enqueue routing, then acknowledge.

A message is acknowledged only after its case (or its rejection) is committed and routing is
enqueued, so a crash at any point means a redelivery, and redelivery changes nothing. The
consumer never dies of a message: invalid ones are dead-lettered with their reason; one that
keeps failing for an unexpected reason is dead-lettered after a few tries; when the database
or broker is down it waits and retries, and kombu reconnects after a broker restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from kombu import Connection, Consumer, Message, Producer
from kombu.mixins import ConsumerMixin
from sqlalchemy.exc import DBAPIError, OperationalError

from dispatcher.contract.intake import Invalid
from dispatcher.messaging import topology
from dispatcher.services.intake import Duplicate, IntakeService, Registered, Rejected
from monitoring.metrics import Metrics

log = logging.getLogger(__name__)

POISON_ATTEMPTS = 3  # tries before a message that fails unexpectedly is dead-lettered
_MAX_BACKOFF = 30.0


class IntakeConsumer(ConsumerMixin):
    def __init__(self, connection: Connection, dead_letter_connection: Connection,
                 intake: IntakeService, enqueue_route: Callable[[str], None], metrics: Metrics,
                 prefetch: int = 32) -> None:
        self.connection = connection
        # Dead letters go out on a connection of their own: waiting for a publisher confirm on
        # the consuming connection would dispatch further deliveries from inside the callback.
        self._dead_letter_connection = dead_letter_connection
        self._intake, self._enqueue_route, self._metrics = intake, enqueue_route, metrics
        self._prefetch = prefetch
        self._producer: Producer | None = None
        self._active: Connection | None = None
        self._failures: dict[str, int] = {}
        self._stopped = threading.Event()
        self._backoff = 0.5
        self.ready = threading.Event()

    # -- kombu hooks ---------------------------------------------------------------------
    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Consumer]:
        topology.declare_all(channel)
        return [consumer_class(queues=[topology.INTAKE_QUEUE], on_message=self.on_message,
                               prefetch_count=self._prefetch, accept=None)]

    def on_consume_ready(self, connection: Connection, channel: Any, consumers: Any,
                         **kwargs: Any) -> None:
        self._active = connection  # kombu's clone of self.connection, the one consuming
        if self._producer is None:
            self._producer = Producer(self._dead_letter_connection,
                                      exchange=topology.REJECTED_EXCHANGE)
        self.ready.set()
        log.info("intake consumer ready on queue %s", topology.INTAKE_QUEUE.name)

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
            self._handle(message)
            self._failures.pop(_key(message), None)
            self._backoff = 0.5
        except self.connection.connection_errors + self.connection.channel_errors:
            raise  # kombu reconnects; the unacknowledged message is redelivered
        except (OperationalError, DBAPIError) as error:
            self._retry_later(message, error, "database")
        except Exception as error:  # a bug met by this message: retry, then dead-letter it
            log.exception("intake delivery failed unexpectedly")
            if self._failures.get(_key(message), 0) + 1 >= POISON_ATTEMPTS:
                self._dead_letter_poison(message, error)
            else:
                self._failures[_key(message)] = self._failures.get(_key(message), 0) + 1
                self._retry_later(message, error, "unexpected")

    def _handle(self, message: Message) -> None:
        outcome = self._intake.receive(
            message.body, message.content_type,
            message.delivery_info.get("routing_key", ""),
            redelivered=bool(message.delivery_info.get("redelivered")),
        )
        if isinstance(outcome, Registered | Duplicate) and _needs_routing(outcome):
            self._enqueue_route(outcome.case_id)
        elif isinstance(outcome, Rejected) and outcome.rejection_id is not None:
            self._dead_letter(message, outcome.code, outcome.reason)
            self._intake.mark_dead_lettered(outcome.rejection_id)
        message.ack()

    def _dead_letter(self, message: Message, code: str, reason: str) -> None:
        """The message goes to xinfang.intake.rejected unchanged, with the reason in headers."""
        assert self._producer is not None
        headers = dict(message.headers or {})
        headers.update({
            topology.REASON_CODE_HEADER: code,
            topology.REASON_HEADER: reason,
            topology.ROUTING_KEY_HEADER: message.delivery_info.get("routing_key", ""),
        })
        properties = message.properties or {}
        self._producer.publish(
            message.body, routing_key=topology.REJECTED_QUEUE.name, headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            delivery_mode=2, message_id=properties.get("message_id"),
            retry=True, retry_policy={"max_retries": 3},
        )

    def _dead_letter_poison(self, message: Message, error: Exception) -> None:
        invalid = Invalid(
            "internal_error", f"processing failed {POISON_ATTEMPTS} times: {type(error).__name__}")
        outcome = self._intake.reject(
            message.body, invalid, message.delivery_info.get("routing_key", ""))
        self._dead_letter(message, invalid.code, invalid.reason)
        if outcome.rejection_id is not None:
            self._intake.mark_dead_lettered(outcome.rejection_id)
        self._failures.pop(_key(message), None)
        message.ack()

    def _retry_later(self, message: Message, error: Exception, kind: str) -> None:
        log.warning("intake: %s error (%s), retrying in %.1fs", kind, type(error).__name__,
                    self._backoff)
        self._metrics.intake_errors.labels(kind).inc()
        self._stopped.wait(self._backoff)
        self._backoff = min(self._backoff * 2, _MAX_BACKOFF)
        message.requeue()


def _needs_routing(outcome: Registered | Duplicate) -> bool:
    return isinstance(outcome, Registered) or outcome.needs_routing


def _key(message: Message) -> str:
    return hashlib.sha256(message.body).hexdigest()
