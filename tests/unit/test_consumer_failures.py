"""The reliable consumer on the memory transport when handling fails: a message that keeps
failing is dead-lettered after a few tries with the error's kind, and the consumer lives on;
a database outage is waited out, never dead-lettered."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from kombu import Connection, Message
from sqlalchemy.exc import OperationalError
from support import wait_for

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.consumer import (
    POISON_ATTEMPTS,
    DeadLetter,
    ReliableConsumer,
    one_at_a_time,
)
from dispatcher.adapters.messaging.publisher import CasePublisher
from monitoring.metrics import Metrics

URL = "memory://localhost/"


class Flaky:
    """A handler that fails the way it is told to, a set number of times."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures, self.calls, self.poisoned = error, failures, 0, []

    def handle(self, message: Message) -> DeadLetter | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return None

    def on_poison(self, message: Message, code: str, reason: str) -> DeadLetter:
        self.poisoned.append((code, reason))
        return DeadLetter(code, reason)


@pytest.fixture
def run(memory_queues: None) -> Iterator[object]:
    started: list[tuple[ReliableConsumer, threading.Thread]] = []

    def start(flaky: Flaky) -> ReliableConsumer:
        consumer = ReliableConsumer(
            Connection(URL),
            Connection(URL),
            topology.INTAKE_QUEUE,
            topology.REJECTED_QUEUE,
            one_at_a_time(flaky.handle),
            flaky.on_poison,
            Metrics(),
            name="test",
            first_backoff=0.001,
        )
        thread = threading.Thread(target=consumer.run, daemon=True)
        thread.start()
        assert consumer.ready.wait(10)
        started.append((consumer, thread))
        return consumer

    yield start
    for consumer, thread in started:
        consumer.stop()
        thread.join(10)


def _publish(body: bytes) -> None:
    with Connection(URL) as connection:
        CasePublisher(connection).publish_body(body, "case.phone")


def _rejected() -> list[Message]:
    with Connection(URL) as connection:
        queue = topology.REJECTED_QUEUE(connection.default_channel)
        messages = []
        while (message := queue.get(no_ack=True)) is not None:
            messages.append(message)
        return messages


def test_a_message_that_keeps_failing_is_dead_lettered_and_the_consumer_lives(run) -> None:
    flaky = Flaky(ValueError("a bug"), failures=100)
    consumer = run(flaky)
    _publish(b'{"poison": true}')
    wait_for(lambda: flaky.poisoned, "the poison message to be given up", timeout=20)
    (message,) = _rejected()
    assert message.body == b'{"poison": true}'
    assert message.headers["x-xinfang-reason-code"] == "internal_error"
    assert "ValueError" in message.headers["x-xinfang-reason"]
    assert flaky.calls == POISON_ATTEMPTS
    flaky.failures = 0
    _publish(b'{"next": true}')
    wait_for(lambda: flaky.calls == POISON_ATTEMPTS + 1, "the next message to be handled")
    assert not consumer.should_stop


def test_a_database_outage_is_waited_out_not_dead_lettered(run) -> None:
    outage = OperationalError("select 1", {}, Exception("connection refused"))
    flaky = Flaky(outage, failures=POISON_ATTEMPTS + 3)
    run(flaky)
    _publish(b'{"valid": "enough"}')
    wait_for(lambda: flaky.calls == POISON_ATTEMPTS + 4, "the message to be handled at last")
    assert flaky.poisoned == [] and _rejected() == []
