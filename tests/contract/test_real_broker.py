"""What only the real RabbitMQ can do to xinfang, so these run on the real ports alone (the twin
has no connections to close): the broker closing every connection of the vhost, as it does on
missed heartbeats or an operator's purge, while cases arrive."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ports import Ports
from support import valid_cases, wait_for

from dispatcher.adapters.db.tables import cases, events

pytestmark = pytest.mark.integration


@pytest.fixture
def real_ports(pg_url: str, amqp_url: str, amqp_vhost: str) -> Iterator[Ports]:
    built = Ports("real", pg_url, amqp_url, amqp_vhost)
    try:
        yield built
    finally:
        built.close()


def test_consumer_survives_broker_closing_its_connections(real_ports: Ports) -> None:
    ports = real_ports
    batch = valid_cases(120, seed=11)
    messages: list[tuple[str, bytes]] = [
        (f"case.{c['channel']}", json.dumps(c, ensure_ascii=False).encode()) for c in batch
    ]

    def publish(some: list[tuple[str, bytes]]) -> None:
        for key in {key for key, _ in some}:
            ports.publish_many([body for k, body in some if k == key], key)

    with ports.running():
        publish(messages[:60])
        wait_for(lambda: ports.count(cases) >= 10, "the first cases to arrive")
        ports.close_all_connections()
        publish(messages[60:])
        wait_for(
            lambda: ports.count(cases, cases.c.stage != "registered") == 120,
            "all 120 cases routed after the connections were closed",
        )
    assert ports.count(events, events.c.type == "registered") == 120
    assert ports.count(events, events.c.type == "assigned") == 120
