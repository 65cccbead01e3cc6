"""`xinfang demo` run in this process with every logger at DEBUG, leaving behind what only its
own process sees: the metrics it would serve, the messages on its in-memory broker, the
notifications as sent.

    python tests/demo_capture.py CAPTURE.json demo --cases FILE --keep DB --json

The command is the real one (its options, its logging set up from XINFANG_LOG_LEVEL, which
must be set); three hooks are added around it:

- after the command configures logging, every logger is put at DEBUG, the libraries' too
  (SQLAlchemy, alembic, kombu, pika and dramatiq keep their own quieter levels otherwise);
- a queue is bound to xinfang.events before any role starts, so that every published event
  is kept (embedded, nothing else listens);
- when the simulation ends, before the app closes, CAPTURE.json is written: the exposition
  of the metrics registry with the database's gauges (what `xinfang run` serves), the
  rejected intake messages, the published events, the notifications handed to the demo's
  sender with the e-mail each would be, and every logger's effective level.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kombu import Connection, Message, Queue
from prometheus_client import generate_latest

import dispatcher.demo.findings as findings
import dispatcher.demo.run as demo_run
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.notify.email import render_email
from dispatcher.adapters.notify.memory import MemorySender
from dispatcher.bootstrap.app import App
from dispatcher.cli import common
from dispatcher.cli import main as xinfang
from dispatcher.domain.notifications import Notification
from monitoring.collector import KpiCollector, OutboxCollector

EVENTS_CAPTURE = Queue("identity-scan.events", topology.EVENTS_EXCHANGE, routing_key="#")
LIBRARIES = ("sqlalchemy", "alembic", "kombu", "amqp", "pika", "dramatiq", "apscheduler")

_sent: list[dict[str, Any]] = []


def every_logger_at_debug() -> None:
    """Root and every logger known so far at DEBUG, explicitly: a library that sets its own
    level when first imported (SQLAlchemy sets WARN) does so only on an unset level."""
    import sqlalchemy  # noqa: F401  its loggers exist from here on

    logging.root.setLevel(logging.DEBUG)
    names = [*logging.root.manager.loggerDict, *LIBRARIES]
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)


def _after(original: Callable[..., Any], then: Callable[[], None]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        then()
        return result

    return wrapped


def _bind_events(app: App) -> None:
    with app.connection() as connection:
        EVENTS_CAPTURE(connection.default_channel).declare()


def _build_and_bind(original: Callable[..., App]) -> Callable[..., App]:
    def build(*args: Any, **kwargs: Any) -> App:
        app = original(*args, **kwargs)
        _bind_events(app)
        return app

    return build


def _record_sent(original: Callable[..., None]) -> Callable[..., None]:
    def send(self: MemorySender, notification: Notification, now: Any) -> None:
        original(self, notification, now)
        subject, body = render_email(notification.payload, notification.recipient_name)
        _sent.append(
            {
                "channel": str(notification.channel),
                "recipient": notification.recipient,
                "recipient_name": notification.recipient_name,
                "role": notification.role,
                "payload": dict(notification.payload),
                "email_subject": subject,
                "email_body": body,
            }
        )

    return send


def _drain(connection: Connection, queue: Queue) -> list[dict[str, Any]]:
    bound = queue(connection.default_channel)
    messages: list[dict[str, Any]] = []
    while (message := bound.get(no_ack=True)) is not None:
        messages.append(_message(message))
    return messages


def _message(message: Message) -> dict[str, Any]:
    """The body as text where it is UTF-8, else as the bytes' repr (a rejected message may be
    anything)."""
    try:
        body = message.body.decode("utf-8")
    except UnicodeDecodeError:
        body = repr(message.body)
    return {
        "routing_key": message.delivery_info.get("routing_key"),
        "headers": message.headers,
        "properties": {key: str(value) for key, value in message.properties.items()},
        "body": body,
    }


def _capture(app: App) -> dict[str, Any]:
    system = [KpiCollector(app.engine, app.clock), OutboxCollector(app.engine, app.clock)]
    exposition = generate_latest(app.metrics.exposition(system, aggregate=True))
    with app.connection() as connection:
        rejected = _drain(connection, topology.REJECTED_QUEUE)
        commands_rejected = _drain(connection, topology.COMMANDS_REJECTED_QUEUE)
        published = _drain(connection, EVENTS_CAPTURE)
    loggers: dict[str, logging.Logger] = {"root": logging.root}
    loggers |= {name: logging.getLogger(name) for name in logging.root.manager.loggerDict}
    return {
        "exposition": exposition.decode("utf-8"),
        "rejected": rejected,
        "commands_rejected": commands_rejected,
        "published": published,
        "sent": _sent,
        "levels": {
            name: logging.getLevelName(logger.getEffectiveLevel())
            for name, logger in loggers.items()
        },
    }


def _collect_then_capture(original: Callable[..., Any], out: Path) -> Callable[..., Any]:
    def collect(app: App, run: Any) -> Any:
        out.write_text(json.dumps(_capture(app), ensure_ascii=False, default=str), "utf-8")
        return original(app, run)

    return collect


def main(argv: list[str]) -> None:
    out, *command = argv
    common.configure_logging = _after(common.configure_logging, every_logger_at_debug)
    demo_run._build_fresh = _build_and_bind(demo_run._build_fresh)
    findings.collect = _collect_then_capture(findings.collect, Path(out))
    MemorySender.send = _record_sent(MemorySender.send)  # type: ignore[method-assign]
    xinfang(command)


if __name__ == "__main__":
    main(sys.argv[1:])
