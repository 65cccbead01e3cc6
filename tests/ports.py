"""Both sides of every port xinfang crosses, behind one face, so that one test runs on each.

- twin: kombu's memory transport, dramatiq's StubBroker and SQLite, all in this process;
- real: RabbitMQ (a fresh vhost, reached with pika: a client that is not xinfang's) and
  PostgreSQL (a fresh database).

A test takes the `ports` fixture (tests/contract/conftest.py), publishes as a foreign producer
would, runs xinfang's roles in-process and looks at what came out of the queues and tables.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pika
from kombu import Connection, Exchange, Queue
from kombu.transport import memory
from sqlalchemy import Engine, func, select

from dispatcher.adapters.db import schema
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.clock import system_clock
from dispatcher.bootstrap.roles import ROLES, RunningRoles
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import Clock

MEMORY_URL = "memory://localhost/"


@dataclass(frozen=True)
class Outgoing:
    """A message as a foreign producer sends it."""

    body: bytes
    routing_key: str = "case.phone"
    exchange: str = "xinfang.intake"
    content_type: str | None = "application/json"
    content_encoding: str | None = None
    headers: dict[str, Any] | None = None
    message_id: str | None = None
    user_id: str | None = None  # RabbitMQ refuses one that is not the publishing user


@dataclass(frozen=True)
class Received:
    body: bytes
    headers: dict[str, Any]
    content_type: str | None
    message_id: str | None


@dataclass
class Ports:
    kind: str  # "twin" or "real"
    database_url: str
    broker_url: str | None  # None: the in-process twin
    vhost: str | None = None
    engine: Engine = field(init=False)
    _users: dict[str, str] = field(init=False, default_factory=dict)  # name -> password

    def __post_init__(self) -> None:
        self.engine = make_engine(self.database_url)
        schema.upgrade(self.engine)
        if self.broker_url is None:
            forget_memory_broker()

    @property
    def real(self) -> bool:
        return self.broker_url is not None

    def settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "broker_url": self.broker_url,
            "database_url": self.database_url,
            "rules_path": None,
            "directory_path": None,
            "relay_interval_seconds": 0.02,
            "worker_threads": 2,
            "rules_reload_seconds": 0,
        }
        return Settings(**(base | overrides))

    @contextmanager
    def running(
        self, roles: set[str] | None = None, clock: Clock = system_clock, **settings: Any
    ) -> Iterator[tuple[App, RunningRoles]]:
        app = build(self.settings(**settings), clock=clock)
        running = RunningRoles(app).start(set(ROLES) if roles is None else roles)
        try:
            assert running.wait_ready(60), f"roles not ready: {running.status()}"
            yield app, running
        finally:
            running.stop()
            app.close()

    # -- as a foreign client ---------------------------------------------------------------
    def publish(self, body: bytes, routing_key: str = "case.phone", **properties: Any) -> None:
        """One message; `properties` as Outgoing's (exchange, content_type, headers, …)."""
        self.publish_many([body], routing_key, **properties)

    def publish_many(
        self, bodies: list[bytes], routing_key: str = "case.phone", **properties: Any
    ) -> None:
        """Several bodies with the same routing key and properties."""
        self.publish_each([Outgoing(body, routing_key, **properties) for body in bodies])

    def publish_each(self, messages: Iterable[Outgoing], as_user: str | None = None) -> None:
        """Messages in order, each with its own properties, over one connection (on RabbitMQ
        with publisher confirms; as the `producer` user `as_user` when given, else as the
        vhost's administrator). Anything with Outgoing's attributes will do."""
        if self.broker_url is None:
            self._publish_memory(messages)
            return
        with self._pika(as_user) as channel:
            channel.confirm_delivery()
            for message in messages:
                properties = pika.BasicProperties(
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    headers=message.headers,
                    delivery_mode=2,
                    message_id=message.message_id,
                    user_id=getattr(message, "user_id", None),
                )
                channel.basic_publish(
                    getattr(message, "exchange", "xinfang.intake"),
                    message.routing_key,
                    message.body,
                    properties,
                )

    def _publish_memory(self, messages: Iterable[Outgoing]) -> None:
        # The channel's own publish, below kombu's serialisation: properties go as they are,
        # a missing content type included, as a foreign client would send them.
        with Connection(MEMORY_URL) as connection:
            channel = connection.default_channel
            for message in messages:
                raw = channel.prepare_message(
                    message.body,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    headers=message.headers or {},
                    properties={
                        "delivery_mode": 2,
                        "message_id": message.message_id,
                        "user_id": getattr(message, "user_id", None),
                    },
                )
                channel.basic_publish(
                    raw,
                    exchange=getattr(message, "exchange", "xinfang.intake"),
                    routing_key=message.routing_key,
                )

    def producer(self, name: str) -> str:
        """A broker user with the rights of docker/'s xinfang-producer (publish to
        xinfang.intake, nothing else), under a name no other test uses; deleted on close.
        The twin has no users: there the name is only what messages say in user_id."""
        if self.broker_url is None:
            return name
        assert self.vhost is not None
        user, password = f"{name}-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        _rabbitmqctl("add_user", user, password)
        self._users[user] = password
        _rabbitmqctl("set_permissions", "-p", self.vhost, user, "^$", r"^xinfang\.intake$", "^$")
        return user

    def bind(
        self,
        queue: str,
        exchange: str = "xinfang.events",
        key: str = "case.#",
        passive_exchange: bool = False,
    ) -> None:
        """Bind a subscriber's own queue. With passive_exchange, the exchange must already
        exist (a subscriber that may not declare it)."""
        if self.broker_url is None:
            with Connection(MEMORY_URL) as connection:
                Queue(
                    queue,
                    Exchange(exchange, type="topic", durable=True, passive=passive_exchange),
                    routing_key=key,
                    durable=True,
                )(connection.default_channel).declare()
            return
        with self._pika() as channel:
            if passive_exchange:
                channel.exchange_declare(exchange, passive=True)
            else:
                channel.exchange_declare(exchange, exchange_type="topic", durable=True)
            channel.queue_declare(queue, durable=True)
            channel.queue_bind(queue, exchange, routing_key=key)

    def take(self, queue: str) -> list[Received]:
        """Every message now in `queue`, removed from it."""
        if self.broker_url is None:
            return self._take_memory(queue)
        out = []
        with self._pika() as channel:
            while True:
                method, properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    return out
                out.append(
                    Received(
                        body,
                        dict(properties.headers or {}),
                        properties.content_type,
                        properties.message_id,
                    )
                )

    def _take_memory(self, queue: str) -> list[Received]:
        out = []
        with Connection(MEMORY_URL) as connection:
            channel = connection.default_channel
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                out.append(
                    Received(
                        message.body if isinstance(message.body, bytes) else message.body.encode(),
                        dict(message.headers or {}),
                        message.content_type,
                        message.properties.get("message_id"),
                    )
                )
        return out

    def depth(self, queue: str) -> int:
        if self.broker_url is None:
            return memory.Channel.queues[queue].qsize() if queue in memory.Channel.queues else 0
        with self._pika() as channel:
            return int(channel.queue_declare(queue, passive=True).method.message_count)

    def consumers(self, queue: str) -> int | None:
        """How many consumers the broker sees on `queue` (None on the twin, which keeps no
        count: there the roles' own status says whether they consume)."""
        if self.broker_url is None:
            return None
        with self._pika() as channel:
            return int(channel.queue_declare(queue, passive=True).method.consumer_count)

    def close_all_connections(self) -> None:
        """What the broker does to clients on missed heartbeats or an operator's purge."""
        assert self.vhost is not None, "only the real broker closes connections"
        subprocess.run(
            [
                "rabbitmqctl",
                "-q",
                "close_all_connections",
                "-p",
                self.vhost,
                "test: connections closed",
            ],
            check=True,
            timeout=60,
            capture_output=True,
        )

    @contextmanager
    def _pika(self, as_user: str | None = None) -> Iterator[Any]:
        assert self.broker_url is not None
        url = self.broker_url if as_user is None else self.url_of(as_user)
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            yield connection.channel()
        finally:
            connection.close()

    def url_of(self, user: str) -> str:
        """The broker URL as a user made by `producer`."""
        assert self.broker_url is not None
        parts = urlsplit(self.broker_url)
        where = f"{user}:{self._users[user]}@{parts.hostname}:{parts.port}"
        return urlunsplit(parts._replace(netloc=where))

    # -- the database ----------------------------------------------------------------------
    def count(self, table: Any, *where: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)

    def close(self) -> None:
        self.engine.dispose()
        if self.broker_url is None:
            forget_memory_broker()
        for user in self._users:  # users are the broker's, not the vhost's: delete them
            _rabbitmqctl("delete_user", user)
        self._users.clear()


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def forget_memory_broker() -> None:
    """kombu's memory transport keeps queues and bindings in class-level state shared by the
    whole process: start each twin empty."""
    memory.Channel.queues.clear()
    memory.Transport.global_state.clear()
