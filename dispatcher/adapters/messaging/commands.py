"""The commands consumer: department actions from exchange xinfang.commands.

A valid command is applied (or refused as illegal) in one transaction, recorded under its
command_id, and acknowledged; redelivery is answered from the record and changes nothing. An
invalid or illegal command goes to xinfang.commands.rejected with its reason, and a
`case.command_rejected` event says so.
"""

from __future__ import annotations

import json
from typing import Any

from kombu import Connection

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.consumer import DeadLetter, ReliableConsumer, one_at_a_time
from dispatcher.adapters.messaging.delivery import Delivery
from dispatcher.contract.intake import (
    COMMAND_SCHEMA,
    Invalid,
    parse,
    readable_id,
)
from dispatcher.domain.clock import parse_timestamp
from dispatcher.domain.decisions import Action, Command
from dispatcher.services.lifecycle import CaseCommands, Refused
from dispatcher.services.ports import Metrics


def command_from(document: dict[str, Any]) -> Command:
    at = document.get("at")
    return Command(
        Action(document["action"]),
        document["case_id"],
        document["actor"],
        parse_timestamp(at) if at else None,
        document.get("data", {}),
    )


def commands_consumer(
    connection: Connection,
    dead_letter_connection: Connection,
    commands: CaseCommands,
    metrics: Metrics,
    prefetch: int = 32,
) -> ReliableConsumer:
    def handle(delivery: Delivery) -> DeadLetter | None:
        parsed = parse(delivery.body, delivery.content_type, schema=COMMAND_SCHEMA)
        if isinstance(parsed, Invalid):
            return _unreadable(commands, delivery.body, parsed.code, parsed.reason)
        document = parsed.case
        outcome = commands.handle(command_from(document), document["command_id"])
        # A refusal is dead-lettered once; again only on redelivery, in case the first
        # dead letter was lost with the connection before this message was acknowledged.
        if isinstance(outcome, Refused) and (not outcome.repeated or delivery.redelivered):
            return DeadLetter("illegal", outcome.reason)
        return None

    def on_poison(delivery: Delivery, code: str, reason: str) -> DeadLetter:
        return _unreadable(commands, delivery.body, code, reason)

    return ReliableConsumer(
        connection,
        dead_letter_connection,
        topology.COMMANDS_QUEUE,
        topology.COMMANDS_REJECTED_QUEUE,
        one_at_a_time(handle),  # each command in a transaction of its own, on its case
        on_poison,
        metrics,
        prefetch,
        name="commands",
    )


def _unreadable(commands: CaseCommands, body: bytes, code: str, reason: str) -> DeadLetter:
    ids = _readable_ids(body)
    commands.refuse_unreadable(
        ids.get("command_id"), ids.get("case_id"), ids.get("action", "unknown"), reason
    )
    return DeadLetter(code, reason)


def _readable_ids(body: bytes) -> dict[str, str]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(document, dict):
        return {}
    limits = {"command_id": 128, "case_id": 36, "action": 32}  # the columns' widths
    readable = {key: readable_id(document.get(key), limit) for key, limit in limits.items()}
    return {key: value for key, value in readable.items() if value is not None}
