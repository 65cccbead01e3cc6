"""kombu connections: RabbitMQ with publisher confirms, or the in-process memory transport."""

from __future__ import annotations

from kombu import Connection

EMBEDDED_URL = "memory://localhost/"


def connect(broker_url: str | None) -> Connection:
    """A lazy connection (kombu connects on first use). With pyamqp, confirm_publish makes every
    publish wait for the broker's confirm, so 'published' means 'the broker has it'."""
    url = broker_url or EMBEDDED_URL
    options = {"confirm_publish": True} if url.startswith("amqp") else {"polling_interval": 0.01}
    return Connection(url, transport_options=options, heartbeat=30 if url.startswith("amqp") else 0)
