"""Least privilege, proven on the real RabbitMQ: docker/rabbitmq/definitions.json is imported
into a fresh vhost, and each user does, with plain pika, what it may and what it may not.

The definitions are imported as they are, with two renames so that tests never meet each
other or the machine's own users: the vhost `xinfang` becomes `xinfang-priv-<token>` and each
user `<name>` becomes `<name>-<token>` (its password, and so its hash, stay the same). Only
`admin` is left out: it is tagged administrator, a right over the whole broker. The vhost and
the users are deleted afterwards. The tests of this module share them (each import and
clean-up costs a few seconds of rabbitmqctl): each takes out of a queue what it put in.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika
import pytest
from fastapi.testclient import TestClient
from pika.exceptions import ChannelClosedByBroker
from sqlalchemy import func, select
from support import phone_case, wait_for

from dispatcher.adapters.db import schema
from dispatcher.adapters.db.tables import cases, events
from dispatcher.adapters.http import create_api
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.connection import connect
from dispatcher.adapters.messaging.publisher import CasePublisher, publish_cases
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.roles import RunningRoles
from dispatcher.bootstrap.settings import Settings

pytestmark = pytest.mark.integration

AMQP_HOST = os.environ.get("XINFANG_TEST_AMQP_HOST", "127.0.0.1:5672")  # as tests/conftest.py
DEFINITIONS = Path(__file__).resolve().parents[2] / "docker" / "rabbitmq" / "definitions.json"
ACCESS_REFUSED, PRECONDITION_FAILED = 403, 406
JSON = pika.BasicProperties(content_type="application/json", delivery_mode=2)


def _import(definitions: dict[str, Any]) -> None:
    """rabbitmqctl import_definitions, the file on stdin: rabbitmqctl may run as another user
    (Debian's runs as rabbitmq), who could not read a test's temporary folder."""
    done = subprocess.run(
        ["rabbitmqctl", "-q", "import_definitions"],
        input=json.dumps(definitions),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"import_definitions failed: {done.stderr or done.stdout}"


@dataclass(frozen=True)
class Loaded:
    """The definitions as imported: the vhost, and each user under its test name."""

    vhost: str
    token: str

    def user(self, role: str) -> str:
        return f"xinfang-{role}-{self.token}"

    def url(self, role: str) -> str:
        # The development password of docker/README.md, which the hash in the file is of.
        return f"amqp://{self.user(role)}:xinfang-{role}-dev@{AMQP_HOST}/{self.vhost}"


def _renamed(definitions: dict[str, Any], vhost: str, token: str) -> dict[str, Any]:
    users = [u for u in definitions["users"] if "administrator" not in (u["tags"] or [])]
    names = {u["name"] for u in users}
    copy = dict(definitions)
    copy["users"] = [{**u, "name": f"{u['name']}-{token}"} for u in users]
    copy["vhosts"] = [{**v, "name": vhost} for v in definitions["vhosts"]]
    copy["permissions"] = [
        {**p, "user": f"{p['user']}-{token}", "vhost": vhost}
        for p in definitions["permissions"]
        if p["user"] in names
    ]
    for kind in ("queues", "exchanges", "bindings"):
        copy[kind] = [{**entity, "vhost": vhost} for entity in definitions[kind]]
    return copy


@pytest.fixture(scope="module")
def loaded(rabbitmq_available: None) -> Iterator[Loaded]:
    token = uuid.uuid4().hex[:10]
    vhost = f"xinfang-priv-{token}"
    copy = _renamed(json.loads(DEFINITIONS.read_text(encoding="utf-8")), vhost, token)
    try:
        _import(copy)
        yield Loaded(vhost, token)
    finally:
        for user in copy["users"]:
            subprocess.run(["rabbitmqctl", "-q", "delete_user", user["name"]], capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


# -- plain pika ----------------------------------------------------------------------------


def _connection(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(url))


def _publish(url: str, exchange: str, key: str, properties: Any = JSON) -> None:
    """One message with publisher confirms: it returns once the broker has it."""
    connection = _connection(url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, key, b'{"test": true}', properties)
    finally:
        connection.close()


def _take(url: str, queue: str) -> list[tuple[Any, bytes]]:
    """Every message now in `queue`, as (properties, body), acknowledged."""
    connection = _connection(url)
    try:
        channel, out = connection.channel(), []
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append((properties, body))
    finally:
        connection.close()


def _refusal(url: str, action: Callable[[Any], object]) -> tuple[int, str]:
    """The broker's reply code and text when it closes the channel on `action`."""
    connection = _connection(url)
    try:
        channel = connection.channel()
        channel.confirm_delivery()  # a refused publish is then reported on the publish itself
        with pytest.raises(ChannelClosedByBroker) as refused:
            action(channel)
            channel.basic_qos(prefetch_count=1)  # a round trip: a late refusal arrives by now
        return refused.value.reply_code, refused.value.reply_text
    finally:
        if connection.is_open:
            connection.close()


def _consume(queue: str) -> Callable[[Any], object]:
    return lambda channel: channel.basic_consume(queue, lambda *_: None)


def _get(queue: str) -> Callable[[Any], object]:
    return lambda channel: channel.basic_get(queue)


def _publish_to(exchange: str, key: str = "case.phone") -> Callable[[Any], object]:
    return lambda channel: channel.basic_publish(exchange, key, b"{}", JSON)


def _assert_refused(url: str, action: Callable[[Any], object]) -> None:
    code, text = _refusal(url, action)
    assert code == ACCESS_REFUSED and text.startswith("ACCESS_REFUSED"), text


# -- the producer ------------------------------------------------------------------------------


def test_the_producer_publishes_to_the_intake_exchange_with_confirms(loaded: Loaded) -> None:
    _publish(loaded.url("producer"), "xinfang.intake", "case.phone")

    (message,) = _take(loaded.url("intake"), "xinfang.intake")  # the intake role reads it
    assert message[1] == b'{"test": true}'


@pytest.mark.parametrize("queue", ["xinfang.intake", "xinfang.intake.rejected", "xinfang.commands"])
def test_the_producer_may_not_consume_any_queue(loaded: Loaded, queue: str) -> None:
    _assert_refused(loaded.url("producer"), _consume(queue))
    _assert_refused(loaded.url("producer"), _get(queue))


def test_the_producer_may_not_make_a_queue_of_its_own_to_read(loaded: Loaded) -> None:
    _assert_refused(loaded.url("producer"), lambda channel: channel.queue_declare("mine"))
    _assert_refused(loaded.url("producer"), lambda channel: channel.queue_declare(""))


@pytest.mark.parametrize(
    "exchange",
    ["xinfang.commands", "xinfang.events", "xinfang.intake.rejected", "", "amq.topic"],
)
def test_the_producer_may_publish_nowhere_else(loaded: Loaded, exchange: str) -> None:
    _assert_refused(loaded.url("producer"), _publish_to(exchange))
    assert _take(loaded.url("intake"), "xinfang.intake") == []


def test_xinfang_publish_works_as_the_producer_and_names_it_as_user_id(loaded: Loaded) -> None:
    """`xinfang publish` may not declare the topology as this user: it checks the exchange
    passively and publishes, each message carrying its user, which RabbitMQ vouches for."""
    report = publish_cases(loaded.url("producer"), [phone_case("PRIV-1")])

    assert report.ok and report.published == 1
    ((properties, body),) = _take(loaded.url("intake"), "xinfang.intake")
    assert json.loads(body)["external_id"] == "PRIV-1"
    assert properties.user_id == loaded.user("producer")


def test_a_forged_user_id_is_refused_by_the_broker_itself(loaded: Loaded) -> None:
    forged = pika.BasicProperties(
        content_type="application/json", delivery_mode=2, user_id=loaded.user("department")
    )
    code, text = _refusal(
        loaded.url("producer"),
        lambda channel: channel.basic_publish("xinfang.intake", "case.phone", b"{}", forged),
    )

    assert code == PRECONDITION_FAILED
    assert f"user_id property set to '{loaded.user('department')}'" in text
    assert _take(loaded.url("intake"), "xinfang.intake") == []


# -- the department system ------------------------------------------------------------------


def test_the_department_publishes_commands(loaded: Loaded) -> None:
    _publish(loaded.url("department"), "xinfang.commands", "command.accept")

    assert len(_take(loaded.url("commands"), "xinfang.commands")) == 1


@pytest.mark.parametrize(
    "exchange", ["xinfang.intake", "xinfang.events", "xinfang.commands.rejected", ""]
)
def test_the_department_may_publish_nothing_but_commands(loaded: Loaded, exchange: str) -> None:
    _assert_refused(loaded.url("department"), _publish_to(exchange))


@pytest.mark.parametrize("queue", ["xinfang.commands", "xinfang.commands.rejected"])
def test_the_department_may_not_consume(loaded: Loaded, queue: str) -> None:
    _assert_refused(loaded.url("department"), _consume(queue))


# -- the read-only subscriber -----------------------------------------------------------------


def test_the_reader_reads_events_in_a_queue_the_broker_names(loaded: Loaded) -> None:
    connection = _connection(loaded.url("reader"))
    try:
        channel = connection.channel()
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, "xinfang.events", routing_key="case.#")
        _publish(loaded.url("relay"), "xinfang.events", "case.registered")  # as the relay does
        method, _properties, body = channel.basic_get(queue, auto_ack=True)
    finally:
        connection.close()

    assert queue.startswith("amq.gen-")
    assert method is not None and body == b'{"test": true}'


@pytest.mark.parametrize(
    "exchange", ["xinfang.events", "xinfang.intake", "xinfang.commands", "", "amq.topic"]
)
def test_the_reader_may_publish_nowhere(loaded: Loaded, exchange: str) -> None:
    _assert_refused(loaded.url("reader"), _publish_to(exchange, "case.registered"))


@pytest.mark.parametrize("queue", ["xinfang.intake", "xinfang.commands", "xinfang.intake.rejected"])
def test_the_reader_may_not_consume_xinfang_queues(loaded: Loaded, queue: str) -> None:
    _assert_refused(loaded.url("reader"), _consume(queue))


def test_the_reader_may_bind_only_to_the_events_and_name_no_queue(loaded: Loaded) -> None:
    def bind_to_intake(channel: Any) -> None:
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, "xinfang.intake", routing_key="case.#")

    _assert_refused(loaded.url("reader"), bind_to_intake)
    _assert_refused(loaded.url("reader"), lambda channel: channel.queue_declare("reader.events"))
    # The reserved prefix cannot be claimed by hand either, nor an exchange made with it.
    _assert_refused(loaded.url("reader"), lambda channel: channel.queue_declare("amq.gen-mine"))
    _assert_refused(
        loaded.url("reader"), lambda channel: channel.exchange_declare("amq.gen-x", "fanout")
    )


# -- xinfang's own roles, each as its own user ------------------------------------------------


@contextmanager
def _roles_as_their_users(loaded: Loaded, database_url: str) -> Iterator[App]:
    """Each role in an app of its own, connected as its own user of the definitions; the
    intake's app is yielded. Sources: cq-12345 is bound to the producer."""
    engine = make_engine(database_url)
    schema.upgrade(engine)
    engine.dispose()
    with ExitStack() as stack:
        apps = {}
        for role in ("relay", "scheduler", "worker", "commands", "intake"):
            settings = Settings(
                broker_url=loaded.url(role),
                database_url=database_url,
                rules_path=None,
                directory_path=None,
                relay_interval_seconds=0.02,
                worker_threads=2,
                rules_reload_seconds=0,
                source_users=(("cq-12345", loaded.user("producer")),),
            )
            apps[role] = app = build(settings)
            stack.callback(app.close)
            running = RunningRoles(app).start({role})
            stack.callback(running.stop)
            assert running.wait_ready(60), f"{role} not ready: {running.status()}"
        yield apps["intake"]


def _subscribe(loaded: Loaded) -> str:
    """A durable queue of the reader's, named by the broker and bound to every event."""
    connection = _connection(loaded.url("reader"))
    try:
        channel = connection.channel()
        queue = channel.queue_declare("", durable=True).method.queue
        channel.queue_bind(queue, "xinfang.events", routing_key="case.#")
        return str(queue)
    finally:
        connection.close()


def _command(case_id: str, action: str) -> bytes:
    return json.dumps(
        {
            "schema": "xinfang.command/v1",
            "command_id": str(uuid.uuid4()),
            "case_id": case_id,
            "action": action,
            "actor": "dept-officer",
        }
    ).encode()


def test_every_role_does_its_work_as_its_own_user(loaded: Loaded, pg_url: str) -> None:
    """A case from the producer is registered by intake, routed by the worker, accepted by a
    department's command through the commands role, and every event reaches the reader
    through the relay: the definitions give each role what its code needs."""
    queue = _subscribe(loaded)
    with _roles_as_their_users(loaded, pg_url) as app:
        assert publish_cases(loaded.url("producer"), [phone_case("ROLES-1")]).ok
        wait_for(lambda: _stage(app, "ROLES-1") == "assigned", "the case routed to a unit")
        with connect(loaded.url("department"), confirm_each=False) as connection:
            commands = CasePublisher(connection, topology.COMMANDS_EXCHANGE)
            case_id = _case_id(app, "ROLES-1")
            commands.publish_body(_command(case_id, "accept"), "command.accept")
        wait_for(lambda: _stage(app, "ROLES-1") == "accepted", "the case accepted")
        wait_for(lambda: _unpublished(app) == 0, "every event relayed")

    types = [json.loads(body)["type"] for _properties, body in _take(loaded.url("reader"), queue)]
    assert types == ["case.registered", "case.assigned", "case.accepted"]


def test_the_gateway_registers_and_enqueues_routing_as_its_own_user(
    loaded: Loaded, pg_url: str
) -> None:
    """A case posted over HTTP to a gateway connected as xinfang-api is registered and routed
    by the worker: the api's rights (dramatiq's route queues, the default exchange) are what
    its code needs."""
    with _roles_as_their_users(loaded, pg_url) as app:
        gateway = build(
            Settings(
                broker_url=loaded.url("api"),
                database_url=pg_url,
                rules_path=None,
                directory_path=None,
                rules_reload_seconds=0,
            )
        )
        try:
            key = gateway.producer_keys.issue(phone_case("API-1")["source"], label="tests")
            with TestClient(create_api(gateway)) as client:
                created = client.post(
                    "/api/v1/cases", json=phone_case("API-1"), headers={"X-API-Key": key}
                )
            assert created.status_code == 201, created.text
        finally:
            gateway.close()
        wait_for(lambda: _stage(app, "API-1") == "assigned", "the case routed to a unit")


@pytest.mark.parametrize(
    "exchange", ["xinfang.intake", "xinfang.events", "xinfang.commands", "xinfang.intake.rejected"]
)
def test_the_gateway_may_publish_to_no_exchange_of_xinfang(loaded: Loaded, exchange: str) -> None:
    _assert_refused(loaded.url("api"), _publish_to(exchange))


@pytest.mark.parametrize("queue", ["xinfang.intake", "xinfang.commands"])
def test_the_gateway_may_not_consume_the_consumers_queues(loaded: Loaded, queue: str) -> None:
    _assert_refused(loaded.url("api"), _consume(queue))


def _case_id(app: App, external_id: str) -> str:
    found = _find(app, external_id)
    assert found is not None
    return found[0]


def _stage(app: App, external_id: str) -> str | None:
    found = _find(app, external_id)
    return None if found is None else str(found[1])


def _find(app: App, external_id: str) -> Any:
    with app.engine.connect() as conn:
        return conn.execute(
            select(cases.c.case_id, cases.c.stage).where(cases.c.external_id == external_id)
        ).first()


def _unpublished(app: App) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count()).select_from(events).where(events.c.published_at.is_(None))
            )
            or 0
        )
