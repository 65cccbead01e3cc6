"""The intake consumer: validate, register idempotently, enqueue routing, then acknowledge.
A batch of messages is registered in one transaction and its new cases go to the workers in
one route message. A message that joined an existing case (Linked: repeat, collective,
refused) is acknowledged with nothing to route: its case is already routed, or will be by its
own message."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kombu import Connection

from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.consumer import DeadLetter, ReliableConsumer, Verdict
from dispatcher.adapters.messaging.delivery import Delivery
from dispatcher.contract.intake import Invalid
from dispatcher.services.intake import (
    Duplicate,
    Incoming,
    IntakeService,
    Outcome,
    Registered,
    Rejected,
)
from dispatcher.services.ports import Metrics


def intake_consumer(
    connection: Connection,
    dead_letter_connection: Connection,
    intake: IntakeService,
    enqueue_route: Callable[..., object],
    metrics: Metrics,
    prefetch: int = 32,
    batch: int = 1,
    batch_wait: float = 0.005,
) -> ReliableConsumer:
    def handle(deliveries: Sequence[Delivery]) -> list[Verdict]:
        outcomes = intake.receive_many(
            [
                Incoming(d.body, d.content_type, d.routing_key, d.redelivered, d.user_id)
                for d in deliveries
            ]
        )
        to_route = [
            o.case_id for o in outcomes if isinstance(o, Registered | Duplicate) and _to_route(o)
        ]
        if to_route:  # routing is idempotent: enqueuing a case twice is harmless
            enqueue_route(*dict.fromkeys(to_route))
        return [_verdict(intake, outcome) for outcome in outcomes]

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
        batch=batch,
        batch_wait=batch_wait,
    )


def _to_route(outcome: Registered | Duplicate) -> bool:
    """A new case, or one an earlier delivery registered and may have died before routing."""
    return isinstance(outcome, Registered) or outcome.needs_routing


def _verdict(intake: IntakeService, outcome: Outcome) -> Verdict:
    if isinstance(outcome, Rejected) and outcome.rejection_id is not None:
        return _dead_letter(intake, outcome)
    return None  # a rejection already dead-lettered before a crash is only acknowledged


def _dead_letter(intake: IntakeService, outcome: Rejected) -> DeadLetter:
    rejection_id = outcome.rejection_id

    def mark() -> None:
        if rejection_id is not None:
            intake.mark_dead_lettered(rejection_id)

    return DeadLetter(outcome.code, outcome.reason, mark)
