"""Exchange and queue names fixed by the wire contract (DESIGN.md). Declared idempotently by
whichever role starts first; their arguments must never change once deployed."""

from typing import Any

from kombu import Exchange, Queue

INTAKE_EXCHANGE = Exchange("xinfang.intake", type="topic", durable=True)
# case.# rather than case.*: a message with an odd key (case.phone.x) still reaches the
# consumer and is judged by its content instead of vanishing unroutable in the broker.
INTAKE_QUEUE = Queue("xinfang.intake", INTAKE_EXCHANGE, routing_key="case.#", durable=True)

REJECTED_EXCHANGE = Exchange("xinfang.intake.rejected", type="fanout", durable=True)
REJECTED_QUEUE = Queue("xinfang.intake.rejected", REJECTED_EXCHANGE, durable=True)

EVENTS_EXCHANGE = Exchange("xinfang.events", type="topic", durable=True)

# Department commands (accept, object, extend, reply, …), routing key command.<action>.
COMMANDS_EXCHANGE = Exchange("xinfang.commands", type="topic", durable=True)
COMMANDS_QUEUE = Queue("xinfang.commands", COMMANDS_EXCHANGE, routing_key="#", durable=True)
COMMANDS_REJECTED_EXCHANGE = Exchange("xinfang.commands.rejected", type="fanout", durable=True)
COMMANDS_REJECTED_QUEUE = Queue(
    "xinfang.commands.rejected", COMMANDS_REJECTED_EXCHANGE, durable=True
)

EXCHANGES = (
    INTAKE_EXCHANGE,
    REJECTED_EXCHANGE,
    EVENTS_EXCHANGE,
    COMMANDS_EXCHANGE,
    COMMANDS_REJECTED_EXCHANGE,
)
QUEUES = (INTAKE_QUEUE, REJECTED_QUEUE, COMMANDS_QUEUE, COMMANDS_REJECTED_QUEUE)

REASON_HEADER = "x-xinfang-reason"
REASON_CODE_HEADER = "x-xinfang-reason-code"
ROUTING_KEY_HEADER = "x-xinfang-routing-key"


def intake_routing_key(channel: str) -> str:
    return f"case.{channel}"


def command_routing_key(action: str) -> str:
    return f"command.{action}"


def declare_all(channel: Any) -> None:
    """Declare every exchange and queue on one kombu channel (a no-op when they exist)."""
    for entity in EXCHANGES:
        entity.bind(channel).declare()
    for queue in QUEUES:
        queue.bind(channel).declare()
