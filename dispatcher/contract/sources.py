"""Sources bound to broker identities: which broker users may publish the cases of a source.

RabbitMQ validates the AMQP `user_id` property: a message whose user_id is not the user its
connection authenticated as is refused by the broker itself (PRECONDITION_FAILED). So a
user_id that reaches the consumer names the user that really published the message, and a
message without one says nothing about who sent it. A source bound to users is accepted only
from them; a source that is bound to nobody is accepted from anyone, as before.

Pure: no I/O. The intake service asks `source_refusal` for every valid case before it writes
anything, and treats a refusal as an invalid message (recorded and dead-lettered, no case).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dispatcher.contract.intake import Invalid

SOURCE_NOT_ALLOWED = "source_not_allowed"

# source -> the broker users allowed to publish it (more than one while credentials rotate)
SourceUsers = Mapping[str, frozenset[str]]


def bind_sources(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """The bindings of (source, user) pairs; a source named twice is bound to both users."""
    users: dict[str, set[str]] = {}
    for source, user in pairs:
        users.setdefault(source, set()).add(user)
    return {source: frozenset(names) for source, names in users.items()}


def parse_source_users(text: str) -> tuple[tuple[str, str], ...]:
    """`source=user,source=user` as (source, user) pairs, in order. Raises ValueError, naming
    the item, when one is not of that form."""
    pairs = []
    for item in text.split(","):
        if not item.strip():
            continue  # a trailing comma, or an empty value
        source, equals, user = (part.strip() for part in item.partition("="))
        if not (equals and source and user):
            raise ValueError(f"{item.strip()!r} is not source=user")
        pairs.append((source, user))
    return tuple(pairs)


def source_refusal(source: str, user_id: str | None, bindings: SourceUsers) -> Invalid | None:
    """Why a case of `source` published by broker user `user_id` (None: the message carried no
    user_id) must be refused, or None when it may be registered. The reason names the user
    that published it, never the users the source is bound to."""
    allowed = bindings.get(source)
    if allowed is None or (user_id is not None and user_id in allowed):
        return None
    if user_id is None:
        return Invalid(
            SOURCE_NOT_ALLOWED,
            "source: is bound to a broker user, and the message carries no user_id: publish it "
            "with the AMQP property user_id set to that user",
        )
    return Invalid(
        SOURCE_NOT_ALLOWED,
        f"source: broker user {user_id!r} may not publish cases of this source",
    )


def key_refusal(source: str, key_source: str) -> Invalid | None:
    """Why a case of `source` sent over HTTP with a producer key of `key_source` must be
    refused, or None: a key lets its producer submit the cases of its own source only. The
    reason names neither the key nor its source."""
    if source == key_source:
        return None
    return Invalid(SOURCE_NOT_ALLOWED, "source: the API key may not submit cases of this source")
