"""Publishing many messages and waiting once for the broker's confirms of all of them.

RabbitMQ confirms the messages of a channel in confirm mode by their sequence numbers, often
many at once (`multiple`). Waiting after every message costs a round trip each; publishing a
batch and then waiting until every number is confirmed costs one. A message the broker
refuses (a nack) or a confirm that does not come in time fails the whole batch: the caller
publishes it again (at least once; consumers deduplicate on message_id).

The memory transport (the embedded twin) has no confirms: a publish there is done once it
returns.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Exchange, Producer

from dispatcher.domain.errors import XinfangError
from dispatcher.domain.wording import plural

CONFIRM_TIMEOUT_S = 30.0


class NotConfirmed(XinfangError):
    """The broker refused some messages of a batch, or did not confirm them in time."""


@dataclass(frozen=True)
class Outgoing:
    body: bytes
    routing_key: str
    message_id: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)


class ConfirmedPublisher:
    """Publishes batches on one channel of `connection`, waiting once per batch (a connection
    opened with kombu's `confirm_publish` has already waited after every message). With a
    `user_id`, every message carries it (RabbitMQ refuses one that is not the connection's
    user)."""

    def __init__(
        self, connection: Connection, exchange: Exchange, user_id: str | None = None
    ) -> None:
        self._connection, self._exchange = connection, exchange
        self._properties: dict[str, str] = {"user_id": user_id} if user_id else {}
        self._producer: Producer | None = None
        self._published = 0  # the channel's sequence number of the last message published
        self._unconfirmed: dict[int, None] = {}  # their sequence numbers, ascending
        self._refused = 0

    @property
    def confirms(self) -> bool:
        """Whether this waits for confirms: on RabbitMQ, unless the connection already waits
        after every message (kombu's confirm_publish)."""
        options: dict[str, Any] = self._connection.transport_options or {}
        return self._connection.transport.driver_type == "amqp" and not options.get(
            "confirm_publish"
        )

    def channel(self) -> Any:
        return self._ready().channel

    def publish_all(
        self,
        messages: Iterable[Outgoing],
        timeout: float = CONFIRM_TIMEOUT_S,
        window: int | None = None,
    ) -> int:
        """Publish every message, then wait until the broker has confirmed them all; returns
        how many. With a `window`, at most that many wait for their confirms at once: the
        publisher takes the confirms that have come before it goes on. Raises NotConfirmed
        (or the connection's error) otherwise."""
        producer = self._ready()
        count = 0
        for message in messages:
            if window is not None and len(self._unconfirmed) >= window:
                self.wait(timeout, until=window // 2)
            producer.publish(
                message.body,
                routing_key=message.routing_key,
                exchange=self._exchange,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=message.message_id,
                headers=message.headers or None,
                **self._properties,
            )
            count += 1
            if self.confirms:
                self._published += 1
                self._unconfirmed[self._published] = None
        self.wait(timeout)
        return count

    def wait(self, timeout: float = CONFIRM_TIMEOUT_S, until: int = 0) -> None:
        """Until no more than `until` of the messages published so far wait for a confirm."""
        deadline = time.monotonic() + timeout
        while len(self._unconfirmed) > until:
            left = deadline - time.monotonic()
            if left <= 0:
                self.reset()
                raise NotConfirmed("the broker did not confirm the messages in time")
            try:
                self._connection.drain_events(timeout=min(left, 1.0))
            except TimeoutError:
                continue
        if self._refused:
            refused, self._refused = self._refused, 0
            raise NotConfirmed(f"the broker refused {plural(refused, 'message')}")

    def reset(self) -> None:
        """Forget the channel (after a connection error): the next batch opens a new one."""
        self._producer = None
        self._published, self._unconfirmed, self._refused = 0, {}, 0

    def _ready(self) -> Producer:
        if self._producer is None:
            channel = self._connection.channel()
            if self.confirms:
                channel.confirm_select()
                channel.events["basic_ack"].add(self._on_ack)
                channel.events["basic_nack"].add(self._on_nack)
            self._producer = Producer(channel, exchange=self._exchange, auto_declare=False)
        return self._producer

    def _settled(self, tag: int, multiple: bool) -> int:
        """Forget the confirmed sequence numbers: `tag`, or every one up to it."""
        if not multiple:
            if tag not in self._unconfirmed:
                return 0
            del self._unconfirmed[tag]
            return 1
        done = 0
        for oldest in list(itertools.takewhile(lambda t: t <= tag, self._unconfirmed)):
            del self._unconfirmed[oldest]
            done += 1
        return done

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settled(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._refused += self._settled(delivery_tag, multiple)
