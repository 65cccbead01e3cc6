"""xinfang as its operators run it, under faults: real processes on RabbitMQ and PostgreSQL,
restarted by a supervisor when they die, while a foreign producer keeps publishing and a
schedule of faults hits them.

Used by tests/faults/ at a size that fits CI and by `python -m bench.faults` at 10,000 cases
or more. Every wait is for progress (cases registered, queues drained), never for time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
from sqlalchemy import Engine, create_engine, func, select, text
from support import wait_for

from dispatcher.adapters.db.tables import cases, events

XINFANG = [sys.executable, "-m", "dispatcher.cli"]
EVENTS_QUEUE = "faults.subscriber"  # bound before xinfang starts
Message = tuple[str, bytes, pika.BasicProperties]  # routing key, body, properties


@dataclass
class Process:
    """One supervised role process: restarted whenever it exits, as systemd would."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exits: list[int] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)

    def restart_if_dead(self) -> None:
        if self.popen is not None and (code := self.popen.poll()) is not None:
            self.exits.append(code)
            self.start()

    def stop(self) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


class Supervisor:
    """Restarts role processes that have exited, until stopped."""

    def __init__(self, processes: Sequence[Process]) -> None:
        self.processes = list(processes)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> Supervisor:
        for process in self.processes:
            process.start()
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.2):  # how often a supervisor looks, not a wait for work
            with self._lock:
                for process in self.processes:
                    process.restart_if_dead()

    def kill(self, name: str) -> None:
        with self._lock:
            for process in self.processes:
                if process.name == name:
                    process.kill()

    def stop(self) -> dict[str, int | None]:
        self._stop.set()
        self._thread.join()
        return {process.name: process.stop() for process in self.processes}


@dataclass
class Stack:
    """The environment of one fleet: a vhost, a database, a folder for logs."""

    amqp_url: str
    vhost: str
    pg_url: str
    logs: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "XINFANG_BROKER_URL": self.amqp_url,
            "XINFANG_DATABASE_URL": self.pg_url,
            "XINFANG_RELAY_INTERVAL": "0.05",
            "XINFANG_RULES_RELOAD": "0",
            "PYTHONUNBUFFERED": "1",
        }

    def engine(self) -> Engine:
        return create_engine(self.pg_url, pool_pre_ping=True)

    def upgrade(self) -> None:
        result = subprocess.run(
            [*XINFANG, "db", "upgrade"], env=self.env(), capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr

    def processes(self, roles: Sequence[str]) -> list[Process]:
        """`["run"]` for every role in one process, else one process per role."""
        return [
            Process(role, [*XINFANG, role], self.env(), self.logs / f"{role}.log") for role in roles
        ]


# -- the foreign producer and subscriber ------------------------------------------------------


class Producer(threading.Thread):
    """Publishes every message with publisher confirms through pika, reconnecting and sending
    again whatever was not confirmed: at least once, as a careful producer does."""

    def __init__(self, url: str, messages: Sequence[Message]) -> None:
        super().__init__(name="producer", daemon=True)
        self._url, self._messages = url, messages
        self.sent = 0
        self.resends = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while self.sent < len(self._messages):
                try:
                    self._publish_from(self.sent)
                except (pika.exceptions.AMQPError, OSError):
                    self.resends += 1
                    threading.Event().wait(0.5)  # the broker is away: knock again shortly
        except BaseException as error:  # surfaced by the test, never swallowed
            self.error = error

    def _publish_from(self, start: int) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self._url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            for routing_key, body, properties in self._messages[start:]:
                channel.basic_publish(
                    "xinfang.intake", routing_key, body, properties, mandatory=True
                )
                self.sent += 1
        finally:
            if connection.is_open:
                connection.close()


def declare_subscriber(url: str) -> None:
    """A subscriber that starts before xinfang: it declares the exchange as the contract
    fixes it, and binds its own queue."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.exchange_declare("xinfang.events", exchange_type="topic", durable=True)
    channel.queue_declare(EVENTS_QUEUE, durable=True)
    channel.queue_bind(EVENTS_QUEUE, "xinfang.events", routing_key="case.#")
    channel.exchange_declare("xinfang.intake", exchange_type="topic", durable=True)
    channel.queue_declare("xinfang.intake", durable=True)
    channel.queue_bind("xinfang.intake", "xinfang.intake", routing_key="case.#")
    connection.close()


def received_event_ids(url: str) -> Counter[str]:
    """How often each event id reached the subscriber (at least once is the contract)."""
    seen: Counter[str] = Counter()
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    while True:
        method, _properties, body = channel.basic_get(EVENTS_QUEUE, auto_ack=True)
        if method is None:
            break
        seen[json.loads(body)["event_id"]] += 1
    connection.close()
    return seen


def queue_state(url: str, queue: str) -> tuple[int, int]:
    """(messages, consumers) of a queue, as the broker sees them."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ok = connection.channel().queue_declare(queue, passive=True).method
        return int(ok.message_count), int(ok.consumer_count)
    finally:
        connection.close()


# -- the faults -----------------------------------------------------------------------------


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def close_all_connections(stack: Stack) -> None:
    rabbitmqctl("close_all_connections", "-p", stack.vhost, "fault: connections closed")


def terminate_database_sessions(stack: Stack, engine: Engine) -> int:
    """pg_terminate_backend on every session of the fleet's database but this one."""
    database = engine.url.database
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                "where datname = :db and pid <> pg_backend_pid()"
            ),
            {"db": database},
        ).scalar()
        conn.commit()
    return int(killed or 0)


def restart_broker_app() -> None:
    """Stop and start the RabbitMQ application (the node and its durable state stay)."""
    rabbitmqctl("stop_app")
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")


# -- what must hold afterwards --------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    cases: int
    routed_once: bool
    registered_once: bool
    events: int
    events_received: int
    events_missing: int
    events_redelivered: int
    intake_depth: int
    intake_consumers: int


def count(engine: Engine, query: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def settled(engine: Engine, url: str, expected_cases: int) -> bool:
    return (
        count(engine, select(func.count()).select_from(cases)) == expected_cases
        and count(
            engine, select(func.count()).select_from(cases).where(cases.c.stage == "registered")
        )
        == 0
        and count(
            engine, select(func.count()).select_from(events).where(events.c.published_at.is_(None))
        )
        == 0
        and queue_state(url, "xinfang.intake")[0] == 0
    )


def outcome(engine: Engine, url: str) -> Outcome:
    with engine.connect() as conn:
        per_case = Counter(
            (row.case_id, row.type)
            for row in conn.execute(
                select(events.c.case_id, events.c.type).where(
                    events.c.type.in_(("registered", "assigned"))
                )
            )
        )
        stored = set(conn.scalars(select(events.c.event_id)).all())
        total_cases = int(conn.scalar(select(func.count()).select_from(cases)) or 0)
    received = received_event_ids(url)
    depth, consumers = queue_state(url, "xinfang.intake")
    return Outcome(
        cases=total_cases,
        routed_once=all(n == 1 for (_, kind), n in per_case.items() if kind == "assigned")
        and sum(1 for (_, kind) in per_case if kind == "assigned") == total_cases,
        registered_once=all(n == 1 for (_, kind), n in per_case.items() if kind == "registered")
        and sum(1 for (_, kind) in per_case if kind == "registered") == total_cases,
        events=len(stored),
        events_received=len(set(received) & stored),
        events_missing=len(stored - set(received)),
        events_redelivered=sum(n - 1 for n in received.values()),
        intake_depth=depth,
        intake_consumers=consumers,
    )


@contextmanager
def fleet(stack: Stack, roles: Sequence[str]) -> Iterator[Supervisor]:
    supervisor = Supervisor(stack.processes(roles)).start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


def wait_progress(engine: Engine, at_least: int, what: str, timeout: float = 300) -> None:
    wait_for(
        lambda: count(engine, select(func.count()).select_from(cases)) >= at_least,
        what,
        timeout=timeout,
    )


def messages_for(batch: Sequence[dict[str, Any]]) -> list[Message]:
    """Valid cases as `xinfang publish` sends them: JSON with content encoding utf-8."""
    properties = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8", delivery_mode=2
    )
    return [
        (f"case.{case['channel']}", json.dumps(case, ensure_ascii=False).encode(), properties)
        for case in batch
    ]


def malformed_messages(corpus: Sequence[Any]) -> list[Message]:
    return [
        (
            bad.routing_key,
            bad.body,
            pika.BasicProperties(
                content_type=bad.content_type,
                content_encoding=bad.content_encoding,
                headers=bad.headers,
                delivery_mode=2,
            ),
        )
        for bad in corpus
    ]


def rejected_bodies(url: str) -> set[bytes]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    bodies = set()
    while True:
        method, _properties, body = channel.basic_get("xinfang.intake.rejected", auto_ack=True)
        if method is None:
            break
        bodies.add(body)
    connection.close()
    return bodies
