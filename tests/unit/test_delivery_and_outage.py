"""The one boundary where deliveries become bytes, and how roles wait out an outage."""

from __future__ import annotations

import logging

import pytest
from kombu import Message
from sqlalchemy.exc import OperationalError

from dispatcher.adapters.messaging.delivery import Delivery, body_bytes
from dispatcher.adapters.outage import Outage, service_of

BODY = '{"title": "小区加装电梯纠纷"}'


@pytest.mark.parametrize(
    ("body", "encoding", "expected"),
    [
        pytest.param(BODY, "utf-8", BODY.encode(), id="py-amqp-decoded-utf-8"),
        pytest.param(BODY, "UTF8", BODY.encode(), id="another-spelling"),
        pytest.param("café", "latin-1", "café".encode("latin-1"), id="latin-1-round-trip"),
        pytest.param("", "utf-8", b"", id="empty-str"),
        pytest.param("", "utf-16", b"", id="empty-str-utf-16-no-bom"),
        pytest.param("", "zlib", b"", id="empty-str-codec-of-bytes"),
        pytest.param(None, None, b"", id="none"),
        pytest.param(b"\xff\xfe", None, b"\xff\xfe", id="bytes-as-they-are"),
        pytest.param(bytearray(b"ab"), None, b"ab", id="bytearray"),
        pytest.param("x", "no-such-codec", b"x", id="unknown-codec"),
    ],
)
def test_a_body_is_read_back_as_the_bytes_that_were_sent(
    body: object, encoding: str | None, expected: bytes
) -> None:
    assert body_bytes(body, encoding) == expected


def test_a_body_of_another_type_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="int"):
        body_bytes(42, None)


def test_a_kombu_message_becomes_a_delivery_of_bytes() -> None:
    # A str body, as py-amqp hands it over when the producer names a content encoding.
    message = Message(
        body=BODY,
        content_type="",
        content_encoding="utf-8",
        headers={"x-trace": "1"},
        properties={"message_id": "m-1"},
        delivery_info={"routing_key": "case.phone", "redelivered": True},
    )
    delivery = Delivery.of(message)
    assert delivery.body == BODY.encode()
    assert delivery.content_type == ""  # empty is kept: it is not JSON's content type
    assert (delivery.routing_key, delivery.redelivered, delivery.message_id) == (
        "case.phone",
        True,
        "m-1",
    )
    assert delivery.headers == {"x-trace": "1"}


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = iter(range(100)).__next__
    changes: list[bool] = []
    outage = Outage("relay", first=0.5, most=4, on_change=changes.append, now=lambda: float(now()))
    error = ConnectionResetError("reset by peer")
    with caplog.at_level(logging.WARNING, logger="dispatcher.adapters.outage"):
        waits = [outage.failed("broker", error) for _ in range(6)]
        assert outage.down
        outage.recovered()
        outage.recovered()
    assert waits == [0.5, 1, 2, 4, 4, 4]  # exponential, bounded
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert "broker unavailable (ConnectionResetError: reset by peer)" in lines[0]
    assert "available again after" in lines[1] and "6 retries" in lines[1]
    assert changes == [False, True] and not outage.down
    assert outage.failed("broker", error) == 0.5  # a new outage starts from the first wait


@pytest.mark.parametrize(
    ("error", "service"),
    [
        (OperationalError("select 1", {}, Exception("gone")), "database"),
        (ConnectionRefusedError(), "broker"),
        (ValueError("a bug"), None),
    ],
)
def test_outages_are_told_apart_from_faults_of_a_message(
    error: Exception, service: str | None
) -> None:
    assert service_of(error) == service
