"""A subscriber of xinfang's events, bound before xinfang starts: it records when each
case.assigned event reached it (this process's wall clock, time.time()), by external_id."""

from __future__ import annotations

import json
import threading
import time

import pika
from kombu import Connection
from pika.adapters.blocking_connection import BlockingChannel

from dispatcher.adapters.messaging import topology

QUEUE = "bench.assigned"
ASSIGNED = "case.assigned"


def declare_topology(url: str) -> None:
    """xinfang's exchanges and queues, as its publisher and roles declare them."""
    with Connection(url) as connection:
        channel = connection.channel()
        topology.declare_all(channel)
        channel.close()


def declare(url: str, queue: str = QUEUE) -> None:
    """xinfang's topology and the subscriber's own queue bound to xinfang.events with key
    case.assigned."""
    declare_topology(url)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, topology.EVENTS_EXCHANGE.name, routing_key=ASSIGNED)
    finally:
        connection.close()


def depth(url: str, queue: str) -> int:
    """How many messages wait in `queue`."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


class Subscriber(threading.Thread):
    """Consumes the queue until stopped; `received` maps external_id to the first receipt."""

    def __init__(self, url: str, queue: str = QUEUE) -> None:
        super().__init__(name="bench-subscriber", daemon=True)
        self._url, self._queue = url, queue
        self.received: dict[str, float] = {}
        self.redelivered = 0
        self.last_at = 0.0
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None

    def start_consuming(self) -> Subscriber:
        self.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"subscriber did not start: {self.error}")
        return self

    def run(self) -> None:
        try:
            self._connection = pika.BlockingConnection(pika.URLParameters(self._url))
            self._channel = channel = self._connection.channel()
            channel.basic_qos(prefetch_count=500)
            channel.basic_consume(self._queue, self._on_message, auto_ack=True)
            self._ready.set()
            channel.start_consuming()
            self._connection.close()
        except BaseException as error:  # told by count() and stop(), never swallowed
            self.error = error
            self._ready.set()

    def _on_message(
        self, _channel: object, _method: object, _properties: object, body: bytes
    ) -> None:
        at = time.time()
        event = json.loads(body)
        if event.get("type") != ASSIGNED:
            return
        external_id = str(event["external_id"])
        if external_id in self.received:
            self.redelivered += 1
            return
        self.received[external_id] = at
        self.last_at = at

    def count(self) -> int:
        if self.error is not None:
            raise RuntimeError(f"subscriber failed: {self.error!r}")
        return len(self.received)

    def stop(self) -> None:
        if self._connection is not None and self._channel is not None and self.is_alive():
            self._connection.add_callback_threadsafe(self._channel.stop_consuming)
        self.join(timeout=30)
