"""The dramatiq broker: RabbitMQ (pika) when a broker URL is set, else the in-process StubBroker."""

from __future__ import annotations

from dramatiq import Broker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)


def _middleware() -> list:
    # dramatiq's defaults minus its Prometheus exporter: xinfang exposes one registry itself.
    return [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
        CurrentMessage(),
    ]


def make_broker(broker_url: str | None) -> Broker:
    if broker_url is None:
        broker = StubBroker(middleware=_middleware())
        broker.emit_after("process_boot")
        return broker
    # confirm_delivery: send() returns only once RabbitMQ has the message, so the intake
    # consumer can acknowledge its own message safely afterwards.
    return RabbitmqBroker(url=broker_url, confirm_delivery=True, middleware=_middleware())


def declare_queue_now(broker: Broker, queue_name: str) -> None:
    """Create a queue on the broker at start-up rather than at the first message, so that a
    role's first enqueue finds it (the StubBroker's queues exist once declared)."""
    if isinstance(broker, RabbitmqBroker):
        broker.declare_queue(queue_name, ensure=True)
    else:
        broker.declare_queue(queue_name)
