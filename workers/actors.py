"""Thin dramatiq actors over the core's services. Each is idempotent: a redelivered message
changes nothing, so dramatiq's at-least-once delivery never does the work twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dramatiq
from dramatiq import Actor, Broker

from dispatcher.domain.clock import parse_timestamp
from dispatcher.domain.errors import CaseNotFound, XinfangError
from dispatcher.services.escalation import Escalations
from dispatcher.services.notifications import Deliveries
from dispatcher.services.routing import RoutingService

log = logging.getLogger(__name__)

ROUTE_QUEUE = "xinfang.route"
ESCALATE_QUEUE = "xinfang.escalate"
NOTIFY_QUEUE = "xinfang.notify"
QUEUES = (ROUTE_QUEUE, ESCALATE_QUEUE, NOTIFY_QUEUE)


class RetryLater(XinfangError):
    """A notification's attempt failed and another is due: dramatiq retries it, backing off."""


@dataclass(frozen=True)
class Actors:
    route: Actor
    escalate: Actor
    notify: Actor

    @property
    def queues(self) -> set[str]:
        return {self.route.queue_name, self.escalate.queue_name, self.notify.queue_name}

    def enqueue_escalation(self, case_id: str, clock: str, as_of: datetime) -> None:
        self.escalate.send(case_id, clock, as_of.isoformat())


def declare_actors(
    broker: Broker,
    routing: RoutingService,
    escalations: Escalations,
    deliveries: Deliveries,
) -> Actors:
    def route(*case_ids: str) -> None:
        """route(case_id), or a batch from one intake transaction: routed together."""
        missing = [r for r in routing.route_many(case_ids) if isinstance(r, CaseNotFound)]
        if missing and len(missing) == len(case_ids):
            raise missing[0]
        for not_found in missing:  # the others are routed: this one will not appear by retrying
            log.warning("route: %s", not_found)

    route_actor = dramatiq.actor(
        broker=broker,
        actor_name="xinfang.route",
        queue_name=ROUTE_QUEUE,
        # A missing case will not appear by retrying; database outages are retried with backoff.
        throws=(CaseNotFound,),
        max_retries=20,
        min_backoff=1000,
        max_backoff=300_000,
    )(route)
    notify_actor = dramatiq.actor(
        broker=broker,
        actor_name="xinfang.notify",
        queue_name=NOTIFY_QUEUE,
        throws=(RetryLater,),  # expected, not a traceback: the row says why
        # The bound is the row's attempts (Deliveries.max_attempts); these retries only wait.
        max_retries=20,
        min_backoff=30_000,
        max_backoff=3_600_000,
    )(_notify(deliveries))

    def escalate(case_id: str, clock_name: str, as_of: str) -> None:
        for taken in escalations.escalate(case_id, clock_name, parse_timestamp(as_of)):
            for notification_id in taken.notifications:
                notify_actor.send(notification_id)

    escalate_actor = dramatiq.actor(
        broker=broker,
        actor_name="xinfang.escalate",
        queue_name=ESCALATE_QUEUE,
        max_retries=20,
        min_backoff=1000,
        max_backoff=300_000,
    )(escalate)
    return Actors(route=route_actor, escalate=escalate_actor, notify=notify_actor)


def _notify(deliveries: Deliveries) -> Callable[[str], None]:
    def notify(notification_id: str) -> None:
        attempt = deliveries.deliver(notification_id)
        if attempt is not None and attempt.retry:
            raise RetryLater(f"notification {notification_id}: {attempt.error}")

    return notify
