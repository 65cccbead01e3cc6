"""A reliable queue consumer: handle, commit, then acknowledge; dead-letter what is invalid.

A message is acknowledged only after the work it carries is committed (and, for intake, its
routing enqueued), so a crash at any point means a redelivery, and every handler is idempotent.
Deliveries are handled in batches: up to `batch` messages, or what arrived within
`batch_wait` seconds of the first, go to the handler together (one transaction) and are
acknowledged together after it (`multiple=True` where the transport has it). A batch that
fails is handled again one message at a time, so that one bad message fails alone.
The consumer never dies of a message: every delivery is read as bytes at one boundary
(`Delivery.of`); invalid ones are dead-lettered with their reason; one that keeps failing for
an unexpected reason is dead-lettered after a few tries; while the database or the broker is
away it waits with a bounded backoff and tries again; kombu reconnects the consuming
connection, and the dead-letter connection is re-opened on its next use.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kombu import Connection, Consumer, Message, Producer, Queue
from kombu.mixins import ConsumerMixin

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.connection import keep_alive
from dispatcher.adapters.messaging.delivery import Delivery
from dispatcher.adapters.outage import Outage, service_of
from dispatcher.services.ports import Metrics

log = logging.getLogger(__name__)

POISON_ATTEMPTS = 3  # tries before a message that fails unexpectedly is dead-lettered
WAKE_SECONDS = 0.25


@dataclass(frozen=True)
class DeadLetter:
    """The handler's verdict that a message is invalid: it goes to the rejected queue."""

    code: str
    reason: str
    after: Callable[[], None] | None = None  # run once the dead letter is confirmed


Verdict = DeadLetter | None
Handle = Callable[[Sequence[Delivery]], list[Verdict]]  # a verdict per delivery, in order
OnPoison = Callable[[Delivery, str, str], DeadLetter]


def one_at_a_time(handle: Callable[[Delivery], Verdict]) -> Handle:
    """A batch handler from a handler of one delivery."""
    return lambda deliveries: [handle(delivery) for delivery in deliveries]


class ReliableConsumer(ConsumerMixin):
    def __init__(
        self,
        connection: Connection,
        dead_letter_connection: Connection,
        queue: Queue,
        rejected: Queue,
        handle: Handle,
        on_poison: OnPoison,
        metrics: Metrics,
        prefetch: int = 32,
        name: str = "intake",
        first_backoff: float = 0.5,
        batch: int = 1,
        batch_wait: float = 0.005,
    ) -> None:
        self.connection = connection
        # Dead letters go out on a connection of their own: waiting for a publisher confirm on
        # the consuming connection would dispatch further deliveries from inside the callback.
        self._dead_letter_connection = dead_letter_connection
        self._queue, self._rejected, self._prefetch = queue, rejected, prefetch
        self._handle, self._on_poison = handle, on_poison
        self._metrics, self.name = metrics, name
        self._producer: Producer | None = None
        self._failures: dict[str, int] = {}
        self._batch, self._batch_wait = max(batch, 1), batch_wait
        self._held: list[tuple[Delivery, Message]] = []  # delivered, not yet handled
        self._held_since = 0.0
        # py-amqp acknowledges up to a delivery tag at once; kombu's virtual transports
        # (the memory twin) take one tag per ack.
        self._ack_many = connection.transport.driver_type == "amqp"
        self._stopped = threading.Event()
        self.outage = Outage(name, first=first_backoff)
        self.ready = threading.Event()  # set once consuming; cleared while the broker is away

    @property
    def consuming(self) -> bool:
        return self.ready.is_set() and not self.outage.down

    def run(self, _tokens: int = 1, **kwargs: Any) -> None:
        # drain_events wakes this often to see a stop request and to send heartbeats.
        super().run(_tokens, safety_interval=WAKE_SECONDS, **kwargs)

    # -- kombu hooks ---------------------------------------------------------------------
    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Consumer]:
        # Declare all this consumer uses, so that nothing it publishes is unroutable. Only its
        # own queues and exchanges: least-privilege users may do no more.
        for queue in (self._queue, self._rejected):
            queue.bind(channel).declare()
        # py-amqp would decode bodies by their content_encoding, and some codecs do not
        # round-trip (a BOM added, escapes undone) or fail on an empty body: take the bytes.
        if hasattr(channel, "auto_decode"):
            channel.auto_decode = False
        return [
            consumer_class(
                queues=[self._queue],
                on_message=self.on_message,
                prefetch_count=self._prefetch,
                accept=None,
            )
        ]

    def consume(
        self,
        limit: int | None = None,
        timeout: float | None = None,
        safety_interval: float = WAKE_SECONDS,
        **kwargs: Any,
    ) -> Iterator[None]:
        """kombu's loop, holding deliveries for a batch: while some are held, it waits for
        more only until the batch's time is up, then handles them."""
        try:
            with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
                while not self.should_stop:
                    self.on_iteration()
                    try:
                        conn.drain_events(timeout=self._wait(safety_interval))
                    except TimeoutError:
                        conn.heartbeat_check()
                    except OSError:
                        if not self.should_stop:
                            raise
                    if self._held and time.monotonic() >= self._held_since + self._batch_wait:
                        self._flush()
                    yield None
                self._flush()  # asked to stop: settle what is held while the channel is open
        except self.connection.connection_errors + self.connection.channel_errors as error:
            self._held.clear()  # their channel is gone: the broker delivers them again
            self.ready.clear()  # kombu's run() reconnects; until then this is not consuming
            self.outage.failed("broker", error)
            raise

    def _wait(self, idle: float) -> float:
        if not self._held:
            return idle
        return max(self._held_since + self._batch_wait - time.monotonic(), 0.001)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        self.outage.failed("broker", exc)  # logs once per outage, not on every try

    def on_consume_ready(
        self, connection: Connection, channel: Any, consumers: Any, **kwargs: Any
    ) -> None:
        if self._producer is None:
            self._producer = Producer(
                self._dead_letter_connection, exchange=self._rejected.exchange, auto_declare=False
            )
        self.outage.recovered()
        self.ready.set()
        log.info("%s consumer ready on queue %s", self.name, self._queue.name)

    def on_iteration(self) -> None:
        # The consuming connection's heartbeats are kombu's (drain_events times out every
        # second); the dead-letter connection idles between dead letters and needs its own.
        keep_alive(self._dead_letter_connection)

    def stop(self) -> None:
        self.should_stop = True
        self._stopped.set()

    # -- deliveries ----------------------------------------------------------------------
    def on_message(self, message: Message) -> None:
        try:
            delivery = Delivery.of(message)
        except Exception as error:  # not even readable as bytes: keep the message, go on
            log.exception("%s: a delivery could not be read; it goes back to the queue", self.name)
            self._put_back([message], self.outage.failed("delivery", error))
            return
        if not self._held:
            self._held_since = time.monotonic()
        self._held.append((delivery, message))
        if len(self._held) >= self._batch:
            self._flush()

    def _flush(self) -> None:
        held, self._held = self._held, []
        if held:
            self._metrics.batch_handled(self.name, len(held))
        if len(held) == 1:
            self._settle_one(*held[0])
        elif held:
            self._settle_batch(held)

    def _settle_batch(self, held: list[tuple[Delivery, Message]]) -> None:
        deliveries = [delivery for delivery, _message in held]
        try:
            for delivery, verdict in zip(deliveries, self._handle(deliveries), strict=True):
                if verdict is not None:
                    self._dead_letter(delivery, verdict)
            self._ack([message for _delivery, message in held])
        except self.connection.connection_errors + self.connection.channel_errors:
            raise
        except Exception as error:
            service = service_of(error)
            if service is not None:  # the database or broker is away: wait, then try again
                self._metrics.consumer_retry(self.name, service)
                self._put_back([m for _d, m in held], self.outage.failed(service, error))
                return
            log.info("%s: a batch of %d failed (%r); one at a time", self.name, len(held), error)
            for delivery, message in held:
                # Handled once already, as a redelivery would have been: a rejection recorded
                # (or dead-lettered) then is found again, not recorded twice.
                self._settle_one(replace(delivery, redelivered=True), message)
            return
        for delivery in deliveries:
            self._failures.pop(_key(delivery), None)
        self.outage.recovered()

    def _ack(self, messages: list[Message]) -> None:
        if self._ack_many:
            messages[-1].ack(multiple=True)  # every earlier delivery of the channel is held here
        else:
            for message in messages:
                message.ack()

    def _settle_one(self, delivery: Delivery, message: Message) -> None:
        try:
            self._deliver(delivery, message)
        except self.connection.connection_errors + self.connection.channel_errors:
            raise  # the consuming connection is gone: kombu reconnects, the broker redelivers
        except Exception as error:  # the failure path failed too: keep the message, go on
            log.exception(
                "%s: a delivery could not be settled; it goes back to the queue", self.name
            )
            self._put_back([message], self.outage.failed("dead-letter path", error))

    def _deliver(self, delivery: Delivery, message: Message) -> None:
        try:
            (verdict,) = self._handle([delivery])
            if verdict is not None:
                self._dead_letter(delivery, verdict)
            message.ack()
        except self.connection.connection_errors + self.connection.channel_errors:
            raise
        except Exception as error:
            self._after_failure(delivery, message, error)
            return
        self._failures.pop(_key(delivery), None)
        self.outage.recovered()

    def _after_failure(self, delivery: Delivery, message: Message, error: Exception) -> None:
        service = service_of(error)
        if service is not None:  # the database or broker is away: wait, then try again
            self._metrics.consumer_retry(self.name, service)
            self._put_back([message], self.outage.failed(service, error))
            return
        # Met by this message (a bug, data the database refuses): retry a few times, then
        # dead-letter it with the error's kind.
        log.exception("%s delivery failed unexpectedly", self.name)
        self._metrics.consumer_retry(self.name, "unexpected")
        attempts = self._failures.get(_key(delivery), 0) + 1
        if attempts < POISON_ATTEMPTS:
            self._failures[_key(delivery)] = attempts
            self._put_back([message], self.outage.failed("handler", error))
            return
        reason = f"processing failed {POISON_ATTEMPTS} times: {type(error).__name__}"
        self._dead_letter(delivery, self._on_poison(delivery, "internal_error", reason))
        self._failures.pop(_key(delivery), None)
        message.ack()
        self.outage.recovered()  # the message is settled: nothing is waiting any more

    def _dead_letter(self, delivery: Delivery, verdict: DeadLetter) -> None:
        """The message goes to the rejected queue unchanged, with the reason in headers."""
        assert self._producer is not None
        headers = dict(delivery.headers)
        headers.update(
            {
                topology.REASON_CODE_HEADER: verdict.code,
                topology.REASON_HEADER: verdict.reason,
                topology.ROUTING_KEY_HEADER: delivery.routing_key,
            }
        )
        self._producer.publish(
            delivery.body,
            routing_key=self._queue.name + ".rejected",
            headers=headers,
            content_type=delivery.content_type or "application/octet-stream",
            content_encoding=delivery.content_encoding or "binary",
            delivery_mode=2,
            message_id=delivery.message_id,
            retry=True,
            retry_policy={"max_retries": 3},
        )
        if verdict.after is not None:
            verdict.after()

    def _put_back(self, messages: list[Message], wait: float) -> None:
        self._stopped.wait(wait)
        for message in messages:
            message.requeue()


def _key(delivery: Delivery) -> str:
    return hashlib.sha256(delivery.body).hexdigest()
