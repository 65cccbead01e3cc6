"""Raw pika publishing with pipelined publisher confirms: up to `window` messages in flight,
a new one sent as each confirm comes back (SelectConnection; a BlockingConnection waits for
every confirm in turn). The baseline of `xinfang publish`, and how the queues are pre-filled."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pika
from pika.channel import Channel
from pika.frame import Method
from pika.spec import Basic

from bench.performance.cases import Message
from bench.performance.processes import BenchError

INTAKE_EXCHANGE = "xinfang.intake"
PROPERTIES = pika.BasicProperties(
    content_type="application/json", content_encoding="utf-8", delivery_mode=2
)


class _Pipeline:
    def __init__(self, url: str, messages: Sequence[Message], window: int, exchange: str) -> None:
        self._url, self._messages, self._window, self._exchange = url, messages, window, exchange
        self._channel: Channel | None = None
        self._connection: pika.SelectConnection | None = None
        self.sent = 0
        self._confirmed_upto = 0  # every delivery tag up to this one is confirmed
        self._singles: set[int] = set()  # confirmed one by one beyond it
        self.nacked = 0
        self.started = self.finished = 0.0
        self.error: str | None = None

    @property
    def confirmed(self) -> int:
        return self._confirmed_upto + len(self._singles)

    def run(self) -> float:
        self._connection = pika.SelectConnection(
            pika.URLParameters(self._url),
            on_open_callback=lambda connection: connection.channel(
                on_open_callback=self._on_channel
            ),
            on_open_error_callback=self._on_open_error,
            on_close_callback=lambda _connection, _reason: self._stop(),
        )
        self._connection.ioloop.start()
        if self.error is not None:
            raise BenchError(f"pipelined publisher: {self.error}")
        if self.confirmed < len(self._messages) or self.nacked:
            raise BenchError(
                f"pipelined publisher: {self.confirmed} of {len(self._messages)} confirmed, "
                f"{self.nacked} refused"
            )
        return self.finished - self.started

    def _on_open_error(self, _connection: object, error: object) -> None:
        self.error = str(error)
        self._stop()

    def _stop(self) -> None:
        assert self._connection is not None
        self._connection.ioloop.stop()

    def _on_channel(self, channel: Channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirming)

    def _on_channel_closed(self, _channel: Channel, reason: object) -> None:
        if self.confirmed < len(self._messages):
            self.error = f"channel closed: {reason}"
        assert self._connection is not None
        if self._connection.is_open:
            self._connection.close()

    def _on_confirming(self, _frame: Method) -> None:
        self.started = time.perf_counter()
        self._fill()

    def _fill(self) -> None:
        assert self._channel is not None
        while self.sent < len(self._messages) and self.sent - self.confirmed < self._window:
            routing_key, body = self._messages[self.sent]
            self._channel.basic_publish(self._exchange, routing_key, body, PROPERTIES)
            self.sent += 1
        if not self._messages:
            self._done()

    def _on_confirm(self, frame: Method) -> None:
        method = frame.method
        if isinstance(method, Basic.Nack):
            self.nacked += 1
        tag = int(method.delivery_tag)
        if method.multiple:
            self._confirmed_upto = max(self._confirmed_upto, tag)
            self._singles = {single for single in self._singles if single > tag}
        else:
            self._singles.add(tag)
        while self._confirmed_upto + 1 in self._singles:
            self._confirmed_upto += 1
            self._singles.discard(self._confirmed_upto)
        if self.confirmed >= len(self._messages):
            self._done()
        else:
            self._fill()

    def _done(self) -> None:
        self.finished = time.perf_counter()
        assert self._connection is not None
        self._connection.close()


def publish(
    url: str, messages: Sequence[Message], window: int = 1000, exchange: str = INTAKE_EXCHANGE
) -> float:
    """Publish every message with confirms, `window` in flight; the seconds from the first
    publish to the last confirm."""
    return _Pipeline(url, messages, window, exchange).run()
