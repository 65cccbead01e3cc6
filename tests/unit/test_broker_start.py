"""A role that starts while RabbitMQ is away waits for it, backing off, and tells so once;
past its wait it gives up with the broker's error, for its supervisor to start it again."""

from __future__ import annotations

import logging

import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.errors import BrokerConnectionError
from support import free_port

from workers.broker import declare_queue_now


def test_a_broker_that_stays_away_is_waited_for_then_given_up_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = RabbitmqBroker(url=f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    attempts = 0
    declare = broker.declare_queue

    def counted(*args: object, **kwargs: object) -> None:
        nonlocal attempts
        attempts += 1
        declare(*args, **kwargs)  # type: ignore[arg-type]

    broker.declare_queue = counted  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING), pytest.raises(BrokerConnectionError):
        declare_queue_now(broker, "xinfang.route", wait=1.0)
    assert attempts >= 2
    waiting = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(waiting) == 1 and "xinfang.route" in waiting[0].getMessage()


@pytest.mark.parametrize(
    "url", [None, "amqp://guest:guest@127.0.0.1:5672/"], ids=["stub", "rabbitmq"]
)
def test_every_broker_starts_the_thread_that_enforces_time_limits(url: str | None) -> None:
    from dramatiq.middleware import TimeLimit

    from workers.broker import make_broker

    broker = make_broker(url)
    limits = next(m for m in broker.middleware if isinstance(m, TimeLimit))
    assert limits.manager.is_alive()  # a hung actor is stopped, on RabbitMQ as embedded
