"""Publishing contract-v1 cases to exchange xinfang.intake, from Python or from a JSONL file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Exchange, Producer

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.connection import connect
from dispatcher.contract.intake import Invalid, parse

RETRY_POLICY = {"max_retries": 5, "interval_start": 0.5, "interval_step": 1, "interval_max": 5}


@dataclass
class PublishReport:
    published: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)

    @property
    def ok(self) -> bool:
        return not self.failed


class CasePublisher:
    """Publishes JSON messages with persistent delivery and, on RabbitMQ, publisher confirms:
    cases to xinfang.intake by default, or commands to xinfang.commands."""

    def __init__(
        self, connection: Connection, exchange: Exchange = topology.INTAKE_EXCHANGE
    ) -> None:
        self._connection, self._exchange = connection, exchange
        self._producer: Producer | None = None

    def _ready(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(
                self._declared_channel(), exchange=self._exchange, auto_declare=False
            )
        return self._producer

    def _declared_channel(self) -> Any:
        """Declare the topology, so that nothing published before the first consumer starts is
        lost. A least-privilege producer may not declare (ACCESS_REFUSED): the broker's
        definitions hold the topology then, and a passive check proves the exchange exists."""
        channel = self._connection.channel()
        try:
            topology.declare_all(channel)
        except self._connection.channel_errors:
            channel = self._connection.channel()  # the refused channel was closed
            self._exchange.bind(channel).declare(passive=True)
        return channel

    def publish_body(self, body: bytes, routing_key: str) -> None:
        publish = self._connection.ensure(self._ready(), self._ready().publish, **RETRY_POLICY)
        publish(
            body,
            routing_key=routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            exchange=self._exchange,
        )

    def publish(self, case: dict[str, Any]) -> None:
        body = json.dumps(case, ensure_ascii=False).encode("utf-8")
        self.publish_body(body, topology.intake_routing_key(case["channel"]))


def publish_lines(
    publisher: CasePublisher, lines: Iterable[str], validate: bool = True, progress: Any = None
) -> PublishReport:
    """Publish one case per non-blank line. With validate, lines that are not valid contract-v1
    messages are reported with their line numbers instead of being sent."""
    report = PublishReport()
    for number, line in _numbered(lines):
        body = line.encode("utf-8")
        checked = parse(body)
        if validate and isinstance(checked, Invalid):
            report.failed.append((number, checked.reason))
        else:
            channel = checked.case["channel"] if not isinstance(checked, Invalid) else "unknown"
            try:
                publisher.publish_body(body, topology.intake_routing_key(channel))
                report.published += 1
            except Exception as error:  # the broker refused it after retries: report, go on
                report.failed.append((number, f"not published: {error}"))
        if progress is not None:
            progress.update(1)
    return report


def publish_cases(broker_url: str | None, cases: Iterable[dict[str, Any]]) -> PublishReport:
    """Publish contract-v1 cases (dicts) to the broker at broker_url; the Python producer API."""
    lines = (json.dumps(case, ensure_ascii=False) for case in cases)
    with connect(broker_url) as connection:
        return publish_lines(CasePublisher(connection), lines)


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if line.strip():
            yield number, line
