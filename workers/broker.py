"""The dramatiq broker: RabbitMQ (pika) when a broker URL is set, else the in-process StubBroker."""

from __future__ import annotations

import logging
from collections.abc import Callable

import tenacity
from dramatiq import Broker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

log = logging.getLogger(__name__)

# How long a role that starts while RabbitMQ is away (restarting, say) waits for it before it
# gives up with an error, for its supervisor to start it again.
START_WAIT_S = 120.0


def middleware() -> list:
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
        broker = StubBroker(middleware=middleware())
        broker.emit_after("process_boot")
        return broker
    # confirm_delivery: send() returns only once RabbitMQ has the message, so the intake
    # consumer can acknowledge its own message safely afterwards.
    return RabbitmqBroker(url=broker_url, confirm_delivery=True, middleware=middleware())


def declare_queue_now(broker: Broker, queue_name: str, wait: float = START_WAIT_S) -> None:
    """Create a queue on the broker at start-up rather than at the first message, so that a
    role's first enqueue finds it (the StubBroker's queues exist once declared). RabbitMQ
    away is waited for, backing off, up to `wait` seconds."""
    if not isinstance(broker, RabbitmqBroker):
        broker.declare_queue(queue_name)
        return
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(BrokerConnectionError),
        stop=tenacity.stop_after_delay(wait),
        wait=tenacity.wait_exponential(multiplier=0.5, max=5),
        before_sleep=_waiting(queue_name),
        reraise=True,
    )
    retrying(lambda: broker.declare_queue(queue_name, ensure=True))


def _waiting(queue_name: str) -> Callable[[tenacity.RetryCallState], None]:
    def tell(state: tenacity.RetryCallState) -> None:
        if state.attempt_number == 1:  # once per start-up, not on every try
            log.warning("RabbitMQ is unreachable; waiting for it to declare %s", queue_name)

    return tell
