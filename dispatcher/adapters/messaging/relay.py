"""The outbox relay: publishes event rows to exchange xinfang.events with publisher confirms.

An event row is written in the same transaction as the change it records; the relay publishes
it and marks it published in a later transaction. A crash in between publishes it again, so
delivery is at least once and subscribers deduplicate on event_id (the AMQP message_id).

A batch of rows is published at once and confirmed by the broker with one wait. The relay
looks for new rows every `interval`, and at once when this process commits an event
(`wake`, which the composition root calls on such a commit).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from kombu import Connection
from sqlalchemy import Engine

from dispatcher.adapters.db import store
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.confirms import ConfirmedPublisher, Outgoing
from dispatcher.adapters.messaging.connection import keep_alive
from dispatcher.adapters.outage import Outage, service_of
from dispatcher.domain.clock import Clock
from dispatcher.services.ports import Metrics

log = logging.getLogger(__name__)

EVENT_SCHEMA = "xinfang.event/v1"

# Text written by people (a reply's facts, an objection's reason, a note) often names the
# petitioner. It stays in the audit trail; the published event says only that it is there.
FREE_TEXT = frozenset({"request", "facts", "reasons", "decision", "reason", "note", "notice"})
_SYSTEM_REASONS = frozenset({"rejected", "command_rejected"})  # written by xinfang itself


def public_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    if event_type in _SYSTEM_REASONS:
        return data
    texts = sorted(key for key in data if key in FREE_TEXT)
    public = {key: value for key, value in data.items() if key not in FREE_TEXT}
    return public | ({"texts": texts} if texts else {})


def event_message(row: Any) -> dict[str, Any]:
    """The wire form of one event row: no petitioner identity, no free text."""
    return {
        "schema": EVENT_SCHEMA,
        "event_id": row["event_id"],
        "type": f"case.{row['type']}",
        "case_id": row["case_id"],
        "source": row["source"],
        "external_id": row["external_id"],
        "at": row["at"].isoformat(),
        "data": public_data(row["type"], row["data"]),
    }


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        connection: Connection,
        clock: Clock,
        metrics: Metrics,
        batch: int = 200,
        interval: float = 0.5,
    ) -> None:
        self._engine, self._connection, self._clock = engine, connection, clock
        self._metrics, self._batch, self._interval = metrics, batch, interval
        self._publisher = ConfirmedPublisher(connection, topology.EVENTS_EXCHANGE)
        self._declared = False
        self._stop, self._wake = threading.Event(), threading.Event()
        self.outage = Outage("relay")
        self.ready = threading.Event()  # set once xinfang.events is declared

    def declare(self) -> None:
        """Declare xinfang.events now, at start-up: a subscriber may bind to it before the
        first event exists."""
        topology.EVENTS_EXCHANGE.bind(self._publisher.channel()).declare()
        self._declared = True
        self.ready.set()

    def wake(self) -> None:
        """Events were committed: publish them now rather than at the next interval."""
        self._wake.set()

    def publish_pending(self) -> int:
        """Publish one batch of unpublished events; returns how many."""
        with self._engine.begin() as conn:
            rows = store.unpublished_events(conn, self._batch)
            if not rows:
                return 0
            if not self._declared:
                self.declare()
            self._publisher.publish_all(_outgoing(row) for row in rows)
            store.mark_published(conn, [row["id"] for row in rows], self._clock())
        self._metrics.batch_handled("relay", len(rows))
        for row in rows:
            self._metrics.event_published(row["type"])
        return len(rows)

    def drain(self) -> int:
        """Publish until nothing is left; returns how many."""
        total = 0
        while (published := self.publish_pending()) > 0:
            total += published
        return total

    def run(self) -> None:
        log.info("outbox relay running")
        while not self._stop.is_set():
            self._wake.clear()  # what is committed from here on wakes the next round
            if self._step():
                continue  # a full batch went out: more is waiting, no pause
            self._wake.wait(self._interval)
        self.drain_quietly()

    def _step(self) -> bool:
        """One round: keep the connection alive, publish a batch. Returns whether a full batch
        went out. A broker or database away is waited out; the rows stay in the outbox."""
        try:
            if self._declared and not keep_alive(self._connection):
                self._lost_channel()  # the broker dropped us: a new channel on the next try
            if not self._declared:
                self.declare()
            full = self.publish_pending() >= self._batch
        except Exception as error:
            self._lost(error)
            return False
        self.outage.recovered()
        return full

    def _lost(self, error: Exception) -> None:
        service = service_of(error) or "publishing"
        if service != "database":  # drop the channel and socket: the next try reconnects
            self._lost_channel()
            self._connection.collect()
        if service == "publishing":
            log.exception("relay: publishing failed unexpectedly")
        self._stop.wait(self.outage.failed(service, error))

    def drain_quietly(self) -> None:
        try:
            self.drain()
        except Exception:
            log.warning("relay: events left unpublished at shutdown; the next relay sends them")

    def _lost_channel(self) -> None:
        self._publisher.reset()
        self._declared = False

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()


def _outgoing(row: Any) -> Outgoing:
    body = json.dumps(event_message(row), ensure_ascii=False).encode("utf-8")
    return Outgoing(body, f"case.{row['type']}", message_id=row["event_id"])
