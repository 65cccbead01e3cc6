"""Sources bound to broker users (XINFANG_SOURCE_USERS), on the twin and on RabbitMQ: a
producer cannot register cases as a source bound to another user. Its case is dead-lettered
as `source_not_allowed`, like an invalid message, and no case is written.

On RabbitMQ the producers are users of their own, with the producer's rights of docker/, and
the broker validates the user_id they send. The twin has no users and validates nothing:
there a message's user_id is simply what it says, which is what the intake relies on (the
broker it runs behind is what vouches for it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pika.exceptions import ChannelClosedByBroker
from ports import Outgoing, Ports
from support import phone_case, wait_for

from dispatcher.adapters.db.tables import case_links, cases, events, rejected_messages
from dispatcher.adapters.messaging.connection import connect
from dispatcher.adapters.messaging.publisher import CasePublisher, publish_lines

REJECTED = "xinfang.intake.rejected"


def _body(source: str, external_id: str) -> bytes:
    """An anonymous case: with one petitioner, later cases would join the first as repeats."""
    case = phone_case(external_id, source=source)
    del case["petitioner"]
    return json.dumps(case, ensure_ascii=False).encode()


def _settled(ports: Ports, registered: int, rejected: int) -> bool:
    return (
        ports.count(cases) == registered
        and ports.count(rejected_messages, rejected_messages.c.dead_lettered_at.isnot(None))
        == rejected
        and ports.depth("xinfang.intake") == 0
    )


def _nothing_of(ports: Ports, source: str) -> bool:
    """No case, link or registration of `source` was written."""
    return (
        ports.count(cases, cases.c.source == source) == 0
        and ports.count(case_links, case_links.c.source == source) == 0
        and ports.count(events, events.c.source == source, events.c.type != "rejected") == 0
    )


def test_a_producer_registers_its_own_source_and_no_other(ports: Ports) -> None:
    hotline, portal = ports.producer("hotline"), ports.producer("portal")
    bound = {"source_users": (("cq-12345", hotline), ("web-portal", portal))}
    sent = [
        Outgoing(_body("cq-12345", "OWN-1"), user_id=hotline),  # its own source
        Outgoing(_body("web-portal", "SPOOF-1"), user_id=hotline),  # another user's source
        Outgoing(_body("web-portal", "SPOOF-2")),  # a bound source without user_id
        Outgoing(_body("visit-desk", "FREE-1")),  # an unbound source: as before
    ]
    with ports.running(roles={"intake"}, **bound):
        ports.publish_each(sent, as_user=hotline)
        wait_for(lambda: _settled(ports, 2, 2), "2 cases registered, 2 refusals dead-lettered")

    assert {row for row in _sources(ports)} == {("cq-12345", "OWN-1"), ("visit-desk", "FREE-1")}
    assert _nothing_of(ports, "web-portal")
    dead = {json.loads(m.body)["external_id"]: m for m in ports.take(REJECTED)}
    assert set(dead) == {"SPOOF-1", "SPOOF-2"}
    assert dead["SPOOF-1"].body == sent[1].body  # unchanged
    for message in dead.values():
        assert message.headers["x-xinfang-reason-code"] == "source_not_allowed"
    assert dead["SPOOF-1"].headers["x-xinfang-reason"] == (
        f"source: broker user {hotline!r} may not publish cases of this source"
    )
    assert "carries no user_id" in dead["SPOOF-2"].headers["x-xinfang-reason"]
    # Recorded as a rejection is: the reason and a case.rejected event naming the message.
    assert ports.count(rejected_messages, rejected_messages.c.code == "source_not_allowed") == 2
    assert ports.count(events, events.c.type == "rejected", events.c.source == "web-portal") == 2


def _sources(ports: Ports) -> list[tuple[str, str]]:
    with ports.engine.connect() as conn:
        return [(r.source, r.external_id) for r in conn.execute(cases.select())]


# -- what only RabbitMQ does: it validates user_id ------------------------------------------


@pytest.fixture
def real_ports(pg_url: str, amqp_url: str, amqp_vhost: str) -> Iterator[Ports]:
    built = Ports("real", pg_url, amqp_url, amqp_vhost)
    try:
        yield built
    finally:
        built.close()


@pytest.mark.integration
def test_a_forged_user_id_never_reaches_the_intake(real_ports: Ports) -> None:
    ports = real_ports
    hotline, portal = ports.producer("hotline"), ports.producer("portal")
    bound = {"source_users": (("cq-12345", hotline), ("web-portal", portal))}
    with ports.running(roles={"intake"}, **bound):
        with pytest.raises(ChannelClosedByBroker) as refused:
            ports.publish_each([Outgoing(_body("web-portal", "FORGED"), user_id=portal)], hotline)
        ports.publish_each([Outgoing(_body("cq-12345", "AFTER"), user_id=hotline)], hotline)
        wait_for(lambda: _settled(ports, 1, 0), "the honest case after the forged one")

    assert refused.value.reply_code == 406  # PRECONDITION_FAILED, from the broker itself
    assert ports.count(rejected_messages) == 0 and _nothing_of(ports, "web-portal")


@pytest.mark.integration
def test_xinfang_publish_as_a_bound_producer_is_accepted(real_ports: Ports) -> None:
    ports = real_ports
    hotline = ports.producer("hotline")
    lines = [_body("cq-12345", f"CLI-{n}").decode() for n in range(3)]
    with ports.running(roles={"intake"}, source_users=(("cq-12345", hotline),)):
        with connect(ports.url_of(hotline), confirm_each=False) as connection:
            report = publish_lines(CasePublisher(connection), lines)
        wait_for(lambda: _settled(ports, 3, 0), "the 3 published cases registered")

    assert report.ok and report.published == 3
