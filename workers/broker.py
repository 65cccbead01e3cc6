"""The dramatiq broker: RabbitMQ (pika) when a broker URL is set, else the in-process StubBroker,
with dramatiq's own Prometheus middleware counting what the actors do."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

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
from dramatiq.middleware.prometheus import Prometheus

# Imported before dramatiq's middleware imports it: prometheus_client chooses multiprocess mode
# or not at its import, from the environment, which ActorMetrics changes for a moment.
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# How long a role that starts while RabbitMQ is away (restarting, say) waits for it before it
# gives up with an error, for its supervisor to start it again.
START_WAIT_S = 120.0


# What dramatiq's middleware points at its own directory when it boots (see ActorMetrics).
_MULTIPROC_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")


class ActorMetrics(Prometheus):
    """dramatiq's Prometheus middleware (dramatiq_messages_total, dramatiq_message_errors_total,
    dramatiq_message_retries_total, dramatiq_message_rejects_total, dramatiq_messages_inprogress,
    dramatiq_delayed_messages_inprogress, dramatiq_message_duration_milliseconds, by queue and
    actor), served by xinfang on its metrics port with its own metrics.

    Three things differ from dramatiq's command line, which xinfang does not use:
    - no exposition server of its own (port 9191): the metrics role serves these;
    - the metrics exist from construction, whatever the broker: dramatiq would make them when
      its command line boots a worker process, which no xinfang role does;
    - the process's environment stays as it started. dramatiq's boot points
      PROMETHEUS_MULTIPROC_DIR at a folder of its own, for its exposition server: left so, the
      process's counters would be written there, and every process started from this one would
      be in multiprocess mode. The variable is put back once the metrics are made (all of them
      labelled, so no file was opened meanwhile). With a multiprocess directory
      (monitoring.metrics), these counters go to it like xinfang's.
    """

    def __init__(self) -> None:
        super().__init__()
        started = {name: os.environ.get(name) for name in _MULTIPROC_VARIABLES}
        try:
            super().after_process_boot(None)
        finally:
            for name, value in started.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    @property
    def forks(self) -> list[Callable[[], int]]:
        return []

    def after_process_boot(self, broker: Any) -> None:
        pass  # made at construction

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        pass  # a process marks its files dead when it exits (monitoring.metrics)

    @property
    def collectors(self) -> list[Collector]:
        return [
            self.total_messages,
            self.total_errored_messages,
            self.total_retried_messages,
            self.total_rejected_messages,
            self.inprogress_messages,
            self.inprogress_delayed_messages,
            self.message_durations,
        ]


def actor_metrics(broker: Broker) -> ActorMetrics:
    """The broker's ActorMetrics middleware."""
    return next(m for m in broker.middleware if isinstance(m, ActorMetrics))


def middleware() -> list:
    return [
        ActorMetrics(),
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
        CurrentMessage(),
    ]


def make_broker(broker_url: str | None) -> Broker:
    broker: Broker
    if broker_url is None:
        broker = StubBroker(middleware=middleware())
    else:
        # confirm_delivery: send() returns only once RabbitMQ has the message, so the intake
        # consumer can acknowledge its own message safely afterwards.
        broker = RabbitmqBroker(url=broker_url, confirm_delivery=True, middleware=middleware())
    # dramatiq's command line says so when it boots a worker process; xinfang's roles boot
    # themselves. Without it TimeLimit never starts the thread that stops an actor past its
    # limit, and a hung actor would hold its worker thread for ever.
    broker.emit_after("process_boot")
    return broker


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
