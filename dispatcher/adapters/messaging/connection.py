"""kombu connections: RabbitMQ with publisher confirms, or the in-process memory transport."""

from __future__ import annotations

from kombu import Connection

EMBEDDED_URL = "memory://localhost/"


def connect(broker_url: str | None, confirm_each: bool = True) -> Connection:
    """A lazy connection (kombu connects on first use). With pyamqp, confirm_publish makes every
    publish wait for the broker's confirm, so 'published' means 'the broker has it'; without
    `confirm_each`, a ConfirmedPublisher waits once for a whole batch instead."""
    url = broker_url or EMBEDDED_URL
    if url.startswith("amqp"):
        options: dict[str, object] = {"confirm_publish": True} if confirm_each else {}
    else:
        options = {"polling_interval": 0.01}
    return Connection(url, transport_options=options, heartbeat=30 if url.startswith("amqp") else 0)


def keep_alive(connection: Connection) -> bool:
    """Send this connection's heartbeats if it is open. A connection the broker has dropped is
    let go (kombu opens a new one on its next use), so that a dead socket is never asked for
    heartbeats again and again. Returns whether the connection is alive."""
    if not connection.connected:
        return False
    try:
        connection.heartbeat_check()
        return True
    except connection.connection_errors + connection.channel_errors:
        connection.collect()
        return False
