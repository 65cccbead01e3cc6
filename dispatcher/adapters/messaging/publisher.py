"""Publishing contract-v1 cases to exchange xinfang.intake, from Python or from a JSONL file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import tenacity
from kombu import Connection, Exchange

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.confirms import ConfirmedPublisher, NotConfirmed, Outgoing
from dispatcher.adapters.messaging.connection import connect
from dispatcher.contract.intake import Invalid, parse

IN_FLIGHT = 1000  # messages that may wait for the broker's confirms at once
BATCH = 5000  # lines published (and, after a lost connection, published again) together
ATTEMPTS = 6  # a batch is published again after a lost connection or a refusal, this often


@dataclass
class PublishReport:
    published: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)

    @property
    def ok(self) -> bool:
        return not self.failed


class CasePublisher:
    """Publishes JSON messages with persistent delivery and, on RabbitMQ, publisher confirms:
    cases to xinfang.intake by default, or commands to xinfang.commands. Many messages at once
    are confirmed with one wait (publish_many), when the connection does not already wait
    after each (connect(..., confirm_each=False)). On RabbitMQ every message carries the
    connection's user as its user_id, so that a source bound to that user
    (XINFANG_SOURCE_USERS) is accepted: the broker vouches for it."""

    def __init__(
        self, connection: Connection, exchange: Exchange = topology.INTAKE_EXCHANGE
    ) -> None:
        self._connection, self._exchange = connection, exchange
        self._confirmed: ConfirmedPublisher | None = None

    def _ready(self) -> ConfirmedPublisher:
        if self._confirmed is None:
            self._declare()
            self._confirmed = ConfirmedPublisher(
                self._connection, self._exchange, broker_user(self._connection)
            )
        return self._confirmed

    def _declare(self) -> None:
        """Declare the topology, so that nothing published before the first consumer starts is
        lost. A least-privilege producer may not declare (ACCESS_REFUSED): the broker's
        definitions hold the topology then, and a passive check proves the exchange exists."""
        channel = self._connection.channel()
        try:
            topology.declare_all(channel)
        except self._connection.channel_errors:
            channel = self._connection.channel()  # the refused channel was closed
            self._exchange.bind(channel).declare(passive=True)
        channel.close()

    def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """Publish them all and wait until the broker has every one, trying the whole batch
        again after a lost connection or a refusal (consumers deduplicate)."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(self._retried),
            stop=tenacity.stop_after_attempt(ATTEMPTS),
            wait=tenacity.wait_exponential(multiplier=0.5, max=5),
            before_sleep=lambda _state: self._lost(),
            reraise=True,
        )
        retrying(lambda: self._ready().publish_all(messages, window=IN_FLIGHT))

    @property
    def _retried(self) -> tuple[type[BaseException], ...]:
        return (NotConfirmed, *self._connection.recoverable_connection_errors)

    def _lost(self) -> None:
        if self._confirmed is not None:
            self._confirmed.reset()
        self._confirmed = None
        self._connection.collect()  # kombu connects again on the next use

    def publish_body(self, body: bytes, routing_key: str) -> None:
        self.publish_many([Outgoing(body, routing_key)])

    def publish(self, case: dict[str, Any]) -> None:
        body = json.dumps(case, ensure_ascii=False).encode("utf-8")
        self.publish_body(body, topology.intake_routing_key(case["channel"]))


def broker_user(connection: Connection) -> str | None:
    """The user a RabbitMQ connection logs in as: its URL's, else kombu's default (guest).
    None for the memory transport, which has no users."""
    if connection.transport.driver_type != "amqp":
        return None
    user = connection.info().get("userid")
    return str(user) if user else None


class Sink(Protocol):
    """Where published messages go: the broker (CasePublisher), or, embedded, straight into
    the intake of this process (dispatcher.bootstrap.direct_intake.DirectIntake)."""

    def publish_many(self, messages: Sequence[Outgoing]) -> None: ...


def publish_lines(
    publisher: Sink, lines: Iterable[str], validate: bool = True, progress: Any = None
) -> PublishReport:
    """Publish one case per non-blank line, BATCH at a time with at most IN_FLIGHT waiting
    for the broker's confirms. With validate, lines that are not valid contract-v1 messages are
    reported with their line numbers instead of being sent."""
    report = PublishReport()
    batch: list[tuple[int, Outgoing]] = []
    for number, line in _numbered(lines):
        body = line.encode("utf-8")
        checked = parse(body)
        if validate and isinstance(checked, Invalid):
            report.failed.append((number, checked.reason))
            _advance(progress, 1)
            continue
        channel = checked.case["channel"] if not isinstance(checked, Invalid) else "unknown"
        batch.append((number, Outgoing(body, topology.intake_routing_key(channel))))
        if len(batch) >= BATCH:
            _send(publisher, batch, report, progress)
            batch = []
    _send(publisher, batch, report, progress)
    report.failed.sort()
    return report


def _send(
    publisher: Sink,
    batch: list[tuple[int, Outgoing]],
    report: PublishReport,
    progress: Any,
) -> None:
    if not batch:
        return
    try:
        publisher.publish_many([message for _number, message in batch])
        report.published += len(batch)
    except Exception as error:  # the broker refused them after retries: report, go on
        report.failed.extend((number, f"not published: {error}") for number, _m in batch)
    _advance(progress, len(batch))


def _advance(progress: Any, count: int) -> None:
    if progress is not None:
        progress.update(count)


def publish_cases(broker_url: str, cases: Iterable[dict[str, Any]]) -> PublishReport:
    """Publish contract-v1 cases (dicts) to the broker at broker_url; the Python producer API."""
    if not broker_url:  # an in-process broker of its own would reach no consumer
        raise ValueError("publish_cases needs the broker's URL (amqp://…)")
    lines = (json.dumps(case, ensure_ascii=False) for case in cases)
    with connect(broker_url, confirm_each=False) as connection:
        return publish_lines(CasePublisher(connection), lines)


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if line.strip():
            yield number, line
