"""One delivery as xinfang's handlers see it: the body always as the bytes that were sent.

This is the one boundary between kombu's messages and xinfang. Transports disagree on what a
body is: py-amqp decodes it to `str` whenever the producer set a `content_encoding` it knows
(and hands an empty body over as `''`), the memory transport gives `bytes`. Hashing, parsing
and dead-lettering a message unchanged all need the bytes. The consumer turns py-amqp's
decoding off on its channels (`ReliableConsumer.get_consumers`), so bytes arrive as sent; a
`str` that reaches this boundary anyway is encoded back with the codec that decoded it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any

from kombu import Message


@dataclass(frozen=True)
class Delivery:
    body: bytes
    content_type: str | None = "application/json"
    content_encoding: str | None = None
    routing_key: str = ""
    redelivered: bool = False
    message_id: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    user_id: str | None = None  # the publishing broker user, validated by RabbitMQ when set

    @classmethod
    def of(cls, message: Message) -> Delivery:
        info = message.delivery_info or {}
        properties = message.properties or {}
        return cls(
            body=body_bytes(message.body, message.content_encoding),
            # An empty content type is a content type, and not JSON's: kept as it came.
            content_type=_text_or_none(message.content_type, empty=True),
            content_encoding=_text_or_none(message.content_encoding),
            routing_key=str(info.get("routing_key") or ""),
            redelivered=bool(info.get("redelivered")),
            message_id=_text_or_none(properties.get("message_id")),
            headers=dict(message.headers or {}),
            user_id=_text_or_none(properties.get("user_id")),
        )


def body_bytes(body: object, content_encoding: str | None) -> bytes:
    """The bytes on the wire. A `str` body was decoded by the client with the message's own
    content encoding, so encoding it with that codec gives back exactly what was sent."""
    if not body:  # py-amqp gives '' for an empty body whatever its encoding: utf-16 would add a BOM
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode(_codec(content_encoding), errors="surrogateescape")
        except (LookupError, UnicodeError):  # a codec of bytes (zlib) or of text (rot13)
            return body.encode("utf-8", errors="surrogateescape")
    raise TypeError(f"a message body of type {type(body).__name__} cannot be read")


def _codec(content_encoding: str | None) -> str:
    if not content_encoding:
        return "utf-8"
    try:
        return codecs.lookup(content_encoding).name
    except LookupError:  # the client could not have decoded with it either
        return "utf-8"


def _text_or_none(value: object, empty: bool = False) -> str | None:
    return value if isinstance(value, str) and (value or empty) else None
