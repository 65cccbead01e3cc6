"""The intake consumer: validate, register idempotently, enqueue routing, then acknowledge.
A message that joined an existing case (Linked: repeat, collective, refused) is acknowledged
with nothing to route: its case is already routed, or will be by its own message."""

from __future__ import annotations

from collections.abc import Callable

from kombu import Connection

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.consumer import DeadLetter, ReliableConsumer
from dispatcher.adapters.messaging.delivery import Delivery
from dispatcher.contract.intake import Invalid
from dispatcher.services.intake import Duplicate, IntakeService, Registered, Rejected
from dispatcher.services.ports import Metrics


def intake_consumer(
    connection: Connection,
    dead_letter_connection: Connection,
    intake: IntakeService,
    enqueue_route: Callable[[str], object],
    metrics: Metrics,
    prefetch: int = 32,
) -> ReliableConsumer:
    def handle(delivery: Delivery) -> DeadLetter | None:
        outcome = intake.receive(
            delivery.body,
            delivery.content_type,
            delivery.routing_key,
            redelivered=delivery.redelivered,
        )
        if isinstance(outcome, Registered) or (
            isinstance(outcome, Duplicate) and outcome.needs_routing
        ):
            enqueue_route(outcome.case_id)  # routing is idempotent: enqueuing twice is harmless
        if isinstance(outcome, Rejected) and outcome.rejection_id is not None:
            return _dead_letter(intake, outcome)
        return None

    def on_poison(delivery: Delivery, code: str, reason: str) -> DeadLetter:
        outcome = intake.reject(delivery.body, Invalid(code, reason), delivery.routing_key)
        return _dead_letter(intake, outcome)

    return ReliableConsumer(
        connection,
        dead_letter_connection,
        topology.INTAKE_QUEUE,
        topology.REJECTED_QUEUE,
        handle,
        on_poison,
        metrics,
        prefetch,
        name="intake",
    )


def _dead_letter(intake: IntakeService, outcome: Rejected) -> DeadLetter:
    rejection_id = outcome.rejection_id

    def mark() -> None:
        if rejection_id is not None:
            intake.mark_dead_lettered(rejection_id)

    return DeadLetter(outcome.code, outcome.reason, mark)
